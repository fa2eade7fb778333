"""Rate limits on every public endpoint (issue 9 item 2): a flood from one client is
throttled while a second client is served normally, route by route.

Every route of the app is walked, so a new route is limited (or listed below with its own
limit) or this file fails. The page limit is set low here ("2 per minute") to flood each route
in three requests; one test floods the start page at the production limit.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from intake.settings import Settings
from tests.conftest import running_app

FLOODER = "203.0.113.7"
NEIGHBOUR = "198.51.100.9"
LOW = "2 per minute"

# Routes whose hits are counted by their own code instead of the per-address page limit,
# each with the test that floods it.
OWN_LIMITS = {
    # Twilio calls from shared addresses: counted per sender_tag, a flood gets silence
    # (tests/sms/test_webhook.py::test_a_flood_from_one_sender_gets_silence_not_replies).
    "sms.inbound": "per sender_tag",
    # Signed by Twilio: a request without the signature is refused before any work.
    "sms.status": "signature",
    # Counted per client in the API's own check, answered in JSON
    # (test_api_flood_from_one_client_is_throttled_while_another_is_served below).
    "api.*": "per client tag, JSON 429",
    # Load balancers' probes: two pings, and it must answer 503 (not 500) when Redis, the
    # limits' storage, is down (tests/foundation/test_health.py).
    "health.healthz": "none (probe)",
    # Flask-Limiter never limits static files (the app's and a blueprint's, "*.static"); a
    # proxy serves them in production (ops/nginx).
    "static": "none (static files)",
}


def _own_limit(endpoint: str) -> bool:
    return (endpoint in OWN_LIMITS or endpoint.endswith(".static")
            or f"{endpoint.split('.')[0]}.*" in OWN_LIMITS)


@pytest.fixture
def low_app(settings: Settings) -> Iterator[Flask]:
    with running_app(dataclasses.replace(settings, page_limits=LOW)) as app:
        yield app


def _url(rule: Rule) -> str:
    """A concrete URL for ``rule``: any value that the converter accepts will do, since the
    limit is counted before the view looks at it."""
    values: dict[str, object] = {}
    for name, converter in (rule._converters or {}).items():
        kind = type(converter).__name__
        values[name] = {"UUIDConverter": uuid.UUID(int=1), "IntegerConverter": 1}.get(kind, "en")
    path = rule.build(values, append_unknown=False)
    assert path is not None
    return path[1]


def _limited_rules(app: Flask) -> list[Rule]:
    """One rule per endpoint: the budget is per endpoint (``/report`` and ``/followup``, say,
    are two rules of one redirecting view and share it)."""
    rules: dict[str, Rule] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not _own_limit(rule.endpoint):
            rules.setdefault(rule.endpoint, rule)
    return list(rules.values())


def _client(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _method(rule: Rule) -> str:
    return "GET" if "GET" in (rule.methods or ()) else sorted(set(rule.methods or ()) - {
        "HEAD", "OPTIONS"})[0]


def test_flood_on_every_route_is_throttled_while_another_client_is_served(
        low_app: Flask) -> None:
    flooder, neighbour = _client(low_app, FLOODER), _client(low_app, NEIGHBOUR)
    throttled, served = [], []
    rules = _limited_rules(low_app)
    assert len(rules) >= 40  # worker pages, desk, buyer portal, healthz: all walked
    for rule in rules:
        url, method = _url(rule), _method(rule)
        answers = [flooder.open(url, method=method).status_code for _ in range(3)]
        throttled.append((rule.rule, answers[:2], answers[2]))
        served.append((rule.rule, neighbour.open(url, method=method).status_code))
    assert [(path, last) for path, first, last in throttled if last != 429] == []
    assert [(path, first) for path, first, _last in throttled if 429 in first] == []
    assert [(path, status) for path, status in served if status in (429, 500)] == []


def test_a_throttled_worker_page_answers_in_the_workers_language(low_app: Flask) -> None:
    flooder = _client(low_app, FLOODER)
    for _ in range(2):
        flooder.get("/es/followup")
    page = flooder.get("/es/followup")
    assert page.status_code == 429
    assert 'lang="es"' in page.get_data(as_text=True)


def test_the_production_page_limit_stops_a_flood_of_the_start_page(app: Flask,
                                                                  settings: Settings) -> None:
    per_minute = int(re.match(r"(\d+) per minute", settings.page_limits).group(1))  # type: ignore[union-attr]
    flooder, neighbour = _client(app, FLOODER), _client(app, NEIGHBOUR)
    statuses = [flooder.get("/").status_code for _ in range(per_minute + 1)]
    assert statuses[:per_minute] == [200] * per_minute
    assert statuses[-1] == 429
    assert neighbour.get("/").status_code == 200


def test_api_flood_from_one_client_is_throttled_while_another_is_served(
        app: Flask) -> None:
    from intake.api.views import BAD_TOKEN_LIMIT

    flooder, neighbour = _client(app, FLOODER), _client(app, NEIGHBOUR)
    headers = {"Authorization": "Bearer wvi_0_wrong"}
    statuses = [flooder.get("/api/v1/queue", headers=headers).status_code
                for _ in range(BAD_TOKEN_LIMIT.amount + 1)]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert neighbour.get("/api/v1/queue", headers=headers).status_code == 401


def test_routes_that_count_themselves_are_not_held_to_the_page_limit(
        low_app: Flask, settings: Settings) -> None:
    """Twilio sends every worker's text from a few shared addresses: at a page limit of 2 a
    minute, the third text from one address must still be handled (it is counted per
    sender_tag instead), and a valid API token is not throttled by the page limit either."""
    import secrets

    from twilio.request_validator import RequestValidator

    from tests.sms.conftest import MY_NUMBER, new_sid

    twilio = _client(low_app, FLOODER)
    assert settings.twilio_auth_token
    validator = RequestValidator(settings.twilio_auth_token)
    statuses = []
    for _ in range(5):
        params = {"MessageSid": new_sid(), "From": f"+6012{secrets.randbelow(10**7):07d}",
                  "To": MY_NUMBER, "Body": "hello", "NumMedia": "0"}
        signature = validator.compute_signature(settings.public_url + "/twilio/sms", params)
        statuses.append(twilio.post("/twilio/sms", data=params,
                                    headers={"X-Twilio-Signature": signature}).status_code)
    assert statuses == [200] * 5
    # The API answers its own 401s (no valid token here) rather than the page limit's 429.
    api = _client(low_app, NEIGHBOUR)
    headers = {"Authorization": "Bearer wvi_0_wrong"}
    assert [api.get("/api/v1/queue", headers=headers).status_code for _ in range(3)] == [401] * 3
