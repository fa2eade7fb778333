"""Machine routes (Twilio's webhooks) run the hooks every answer needs and none of those for
browsers (``intake.machines``, ``IntakeFlask.preprocess_request``)."""

from __future__ import annotations

import logging

import pytest
from flask import Blueprint, Flask, Response, after_this_request

from intake.headers import BASELINE
from intake.machines import every_request, serve_machines

WEBHOOK, PAGE = "/twilio/sms", "/healthz"


@pytest.fixture
def seen(app: Flask) -> list[str]:
    """Which of four app-wide hooks ran, in order: two for browsers, two for every request."""
    calls: list[str] = []

    @app.before_request
    def browser_before() -> None:
        calls.append("browser before")

    @app.before_request
    @every_request
    def every_before() -> None:
        calls.append("every before")

    @app.after_request
    def browser_after(response: Response) -> Response:
        calls.append("browser after")
        return response

    @app.after_request
    @every_request
    def every_after(response: Response) -> Response:
        calls.append("every after")
        return response

    return calls


def test_a_webhook_runs_only_the_hooks_marked_for_every_request(
        app: Flask, seen: list[str]) -> None:
    response = app.test_client().post(WEBHOOK, data={"Body": "hello"})  # unsigned: 403
    assert response.status_code == 403
    assert seen == ["every before", "every after"]


def test_a_page_still_runs_every_hook(app: Flask, seen: list[str]) -> None:
    assert app.test_client().get(PAGE).status_code == 200
    assert seen == ["browser before", "every before", "every after", "browser after"]


def test_a_webhook_answer_keeps_the_security_headers_and_its_log_line(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="intake.request"):
        response = app.test_client().post(WEBHOOK, data={"Body": "hello"})
    for name, value in BASELINE.items():
        assert response.headers.get(name) == value, name
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    logged = [r.__dict__ for r in caplog.records if r.name == "intake.request"]
    assert [(line["route"], line["status"]) for line in logged] == [(WEBHOOK, 403)]


def test_a_machine_blueprint_runs_its_own_hooks_and_after_this_request(app: Flask) -> None:
    robots = Blueprint("robots", __name__)
    calls: list[str] = []

    @robots.before_request
    def own_before() -> None:
        calls.append("own before")

    @robots.after_request
    def own_after(response: Response) -> Response:
        calls.append("own after")
        return response

    @robots.post("/robots/ping")
    def ping() -> str:
        @after_this_request
        def once(response: Response) -> Response:
            calls.append("after this request")
            return response
        return "pong"

    serve_machines(app, robots, path_prefix="/robots/")
    assert app.test_client().post("/robots/ping").get_data(as_text=True) == "pong"
    assert calls == ["own before", "after this request", "own after"]


def test_machine_routes_need_the_intake_app() -> None:
    with pytest.raises(TypeError, match="create_app"):
        serve_machines(Flask("plain"), Blueprint("robots", __name__), path_prefix="/robots/")
