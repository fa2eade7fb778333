"""The monitors' JSON API: tokens made on the desk page, the routes under /api/v1/, what a
token of one desk can never reach, bad input, and the OpenAPI document that must describe
every route (an undocumented route fails here)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from crypto.errors import DecryptionFailed
from crypto.hierarchy import TEST_FAST
from crypto.keys import PrivateKey
from crypto.pseudonyms import open_with_key
from crypto.subkeys import derive_subkey
from intake.accounts import members
from intake.accounts.models import Account, AccountStatus, ApiToken, Desk, Membership
from intake.api.tokens import DESK_KEY_PURPOSE
from intake.audit.models import AuditEvent
from intake.cases.service import create_case
from intake.db import Database
from intake.reports.models import Report, ReportDesk, Severity, TriageStatus
from intake.reports.service import find_by_receipt, thread_for
from intake.settings import Settings
from tests import factories
from tests.conftest import TEST_REDIS_URL
from tests.leaks import database_bytes, folder_bytes, redis_bytes
from tests.monitor.conftest import Browser, DeskWorld, Member, submit
from tests.sms.conftest import run_jobs
from tests.twilio_fake import TwilioFake

try:
    import jsonschema
except ImportError:  # pragma: no cover - the fallback below checks required keys only
    jsonschema = None

TOKEN = re.compile(r"wvi_[0-9]+_[A-Za-z0-9_-]{43}")
PREFIX = "/api/v1"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


# --- helpers ----------------------------------------------------------------------------------


def make_token(browser: Browser, member: Member, desk_id: int, name: str = "triage script",
               *, login: bool = True) -> str:
    """A token made the way a monitor makes one: signed in, on the desk's Tokens page."""
    if login:
        assert browser.login(member).status_code == 302
    assert browser.get(f"/monitor/d/{desk_id}/tokens").status_code == 200
    page = browser.post(f"/monitor/d/{desk_id}/tokens", {"name": name})
    assert page.status_code == 200
    found = TOKEN.findall(page.get_data(as_text=True))
    assert len(found) == 1
    return found[0]


@dataclass
class Api:
    client: FlaskClient
    token: str

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             data: bytes | str | None = None, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> TestResponse:
        sent = {"Authorization": f"Bearer {token or self.token}", **(headers or {})}
        if body is not None:
            data = json.dumps(body)
        return self.client.open(PREFIX + path, method=method, headers=sent, data=data,
                                content_type=content_type if data is not None else None)


@pytest.fixture
def api(app: Flask, browser: Browser, desks: DeskWorld) -> Api:
    """Alice's token for desk A, on a client without any monitor session."""
    return Api(app.test_client(), make_token(browser, desks.alice, desks.a.desk.id))


@pytest.fixture
def bella_api(app: Flask, other_browser: Browser, desks: DeskWorld) -> Api:
    return Api(app.test_client(), make_token(other_browser, desks.bella, desks.b.desk.id))


@pytest.fixture
def doc(client: FlaskClient) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def check_documented(doc: dict[str, Any], response: TestResponse, method: str,
                     path: str) -> None:
    """The answer matches the response schema the document gives for its status."""
    operation = doc["paths"][path][method.lower()]
    answer = operation["responses"][str(response.status_code)]
    if "$ref" in answer:
        answer = doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = answer["content"]["application/json"]["schema"]
    body = response.get_json()
    if jsonschema is not None:
        validator = jsonschema.Draft202012Validator(
            {"components": doc["components"], **schema},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        validator.validate(body)
        return
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(schema.get("required", [])) <= set(body)


def api_routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, METHOD) of every rule the app serves under /api/v1/."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(f"{PREFIX}/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
            routes |= {(path, m) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    return routes


def assert_error(response: TestResponse, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert body["error"] == error
    return body


def case_of(db: Database, desk: factories.DeskWithKey, facility_id: int, report_id: str,
            actor: Member, title: str = "Wages unpaid since March") -> str:
    with db.transaction() as session:
        case = create_case(session, desk_id=desk.desk.id, title=title, category="wages",
                           severity=Severity.SERIOUS, facility_id=facility_id,
                           report_ids=[uuid.UUID(report_id)], actor_id=actor.account_id)
        return str(case.id)


def secret_of(token: str) -> bytes:
    return base64.urlsafe_b64decode(token.split("_", 2)[2] + "=")


def triage_of(db: Database, desk: factories.DeskWithKey, report_id: str) -> ReportDesk:
    with db.transaction() as session:
        row = session.get_one(ReportDesk, (uuid.UUID(report_id), desk.desk.id))
        session.expunge(row)
        return row


def triage_state(db: Database, desk: factories.DeskWithKey, report_id: str) -> tuple[Any, ...]:
    row = triage_of(db, desk, report_id)
    return (row.category, row.severity, row.tags, row.assignee_id, row.status,
            row.no_action_reason, row.duplicate_of_id)


# --- the tokens page --------------------------------------------------------------------------


def test_token_is_made_on_the_desk_page_and_shown_only_once(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    token = make_token(browser, desks.alice, desks.a.desk.id, "nightly export")
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/tokens").get_data(as_text=True)
    assert token not in page and token.split("_", 2)[2] not in page
    assert "nightly export" in page and "never" in page and "Alice" in page
    with db.transaction() as session:
        row = session.scalars(select(ApiToken)).one()
        assert (row.account_id, row.desk_id, row.name) == (
            desks.alice.account_id, desks.a.desk.id, "nightly export")
        assert token.startswith(f"wvi_{row.id}_") and len(secret_of(token)) == 32


def test_token_page_of_another_desk_is_not_found(browser: Browser, desks: DeskWorld,
                                                 db: Database) -> None:
    browser.login(desks.bella)
    browser.get(f"/monitor/d/{desks.b.desk.id}/tokens")
    assert browser.get(f"/monitor/d/{desks.a.desk.id}/tokens").status_code == 404
    assert browser.post(f"/monitor/d/{desks.a.desk.id}/tokens",
                        {"name": "sneaky"}).status_code == 404
    with db.transaction() as session:
        assert session.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_token_needs_a_name_of_at_most_100_characters(
    browser: Browser, desks: DeskWorld, db: Database, name: str
) -> None:
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/tokens")
    page = browser.post(f"/monitor/d/{desks.a.desk.id}/tokens", {"name": name})
    assert page.status_code == 400
    assert TOKEN.search(page.get_data(as_text=True)) is None
    with db.transaction() as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_token_made_and_revoked_is_audited_without_its_secret(
    api: Api, browser: Browser, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    browser.post(f"/monitor/d/{desks.a.desk.id}/tokens/{token_id}/revoke")
    with db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("token.%")).order_by(AuditEvent.id)).all()
        assert [(e.action, e.actor_id, e.desk_id, e.object_id) for e in events] == [
            ("token.create", desks.alice.account_id, desks.a.desk.id, str(token_id)),
            ("token.revoke", desks.alice.account_id, desks.a.desk.id, str(token_id)),
        ]
        assert all(e.detail is None for e in events)


def test_revoking_on_the_page_stops_the_token_at_once(
    api: Api, browser: Browser, desks: DeskWorld, db: Database
) -> None:
    assert api.call("GET", "/queue").status_code == 200
    with db.transaction() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    revoked = browser.post(f"/monitor/d/{desks.a.desk.id}/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert_error(api.call("GET", "/queue"), 401, "unauthorized")
    assert "revoked" in browser.get(f"/monitor/d/{desks.a.desk.id}/tokens").get_data(
        as_text=True)


def test_a_token_of_another_desk_cannot_be_revoked_from_this_desks_page(
    bella_api: Api, browser: Browser, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        bellas = session.scalars(select(ApiToken.id)).one()
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/tokens")
    assert browser.post(f"/monitor/d/{desks.a.desk.id}/tokens/{bellas}/revoke").status_code \
        == 404
    assert bella_api.call("GET", "/queue").status_code == 200


def test_a_token_id_beyond_the_id_column_is_not_found(
    api: Api, browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Ids are 32-bit: PostgreSQL refused to compare 2**31 with one (a 500)."""
    browser.get(f"/monitor/d/{desks.a.desk.id}/tokens")
    assert browser.post(f"/monitor/d/{desks.a.desk.id}/tokens/{2**31}/revoke").status_code \
        == 404
    with db.transaction() as session:
        assert session.scalars(select(ApiToken.revoked_at)).one() is None


def test_day_of_last_use_is_recorded(api: Api, db: Database) -> None:
    with db.transaction() as session:
        assert session.scalars(select(ApiToken.last_used_on)).one() is None
    api.call("GET", "/queue")
    with db.transaction() as session:
        assert session.scalars(select(ApiToken.last_used_on)).one() == dt.datetime.now(
            dt.UTC).date()


# --- what the database keeps ------------------------------------------------------------------


def test_the_token_secret_is_stored_nowhere(
    app: Flask, browser: Browser, desks: DeskWorld, database_url: str, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = make_token(browser, desks.alice, desks.a.desk.id)
    assert Api(app.test_client(), token).call("GET", "/queue").status_code == 200
    secret = secret_of(token)
    derived = derive_subkey(secret, purpose=DESK_KEY_PURPOSE)
    planted = [token.encode(), token.split("_", 2)[2].encode(), secret, secret.hex().encode(),
               derived, derived.hex().encode()]
    for place in (database_bytes(database_url), folder_bytes(settings.instance_path),
                  redis_bytes(TEST_REDIS_URL), caplog.text.encode()):
        assert [p for p in planted if p in place] == []


def test_the_database_row_alone_cannot_open_the_desk_key(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        row = session.scalars(select(ApiToken)).one()
    context = f"api-token:{row.id}".encode()
    assert row.token_hash == hashlib.sha256(secret_of(api.token)).digest()
    for guess in (secrets.token_bytes(32), bytes(row.token_hash)):
        with pytest.raises(DecryptionFailed):
            open_with_key(derive_subkey(guess, purpose=DESK_KEY_PURPOSE), row.desk_key_sealed,
                          context=context)
    # The token itself does open it (so the failures above are about the key, not the blob).
    opened = open_with_key(derive_subkey(secret_of(api.token), purpose=DESK_KEY_PURPOSE),
                           row.desk_key_sealed, context=context)
    assert opened == desks.a.key.to_bytes()


# --- who may call -----------------------------------------------------------------------------


def _retarget(token: str, *, token_id: int | None = None, secret: bytes | None = None) -> str:
    _, old_id, old_secret = token.split("_", 2)
    new_secret = (base64.urlsafe_b64encode(secret).rstrip(b"=").decode() if secret is not None
                  else old_secret)
    return f"wvi_{token_id if token_id is not None else old_id}_{new_secret}"


@pytest.mark.parametrize("header", [
    None,
    "Basic YWxpY2U6cGFzc3dvcmQ=",
    "Bearer",
    "Bearer not-a-token",
    "Bearer wvi_1_short",
    "Bearer {wrong_secret}",
    "Bearer {wrong_id}",
    "Bearer {token}x",
])
def test_missing_or_wrong_token_is_unauthorized(api: Api, header: str | None) -> None:
    values = {"token": api.token, "wrong_secret": _retarget(api.token,
                                                            secret=secrets.token_bytes(32)),
              "wrong_id": _retarget(api.token, token_id=int(api.token.split("_")[1]) + 1)}
    headers = {"Authorization": header.format(**values)} if header else {}
    response = api.client.get(f"{PREFIX}/queue", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_monitor_session_cookie_is_not_a_token(api: Api, browser: Browser) -> None:
    assert browser.get("/monitor/", follow_redirects=True).status_code == 200  # signed in
    assert_error(browser.client.get(f"{PREFIX}/queue"), 401, "unauthorized")


def test_token_of_a_removed_member_stops_working_at_once(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    assert api.call("GET", "/queue").status_code == 200
    with db.transaction() as session:
        membership = session.scalars(select(Membership).where(
            Membership.desk_id == desks.a.desk.id,
            Membership.account_id == desks.alice.account_id)).one()
        members.remove(session, membership=membership,
                       removed_by=session.get_one(Account, desks.amir.account_id))
    assert_error(api.call("GET", "/queue"), 401, "unauthorized")


def test_token_of_a_suspended_account_stops_working(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        session.get_one(Account, desks.alice.account_id).status = AccountStatus.SUSPENDED
    assert_error(api.call("GET", "/queue"), 401, "unauthorized")


def test_token_stops_working_when_the_desk_key_changes(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        session.get_one(Desk, desks.a.desk.id).public_key = \
            PrivateKey.generate().public_key().to_bytes()
    assert_error(api.call("GET", "/queue"), 401, "unauthorized")


# --- the queue --------------------------------------------------------------------------------


def test_queue_lists_the_desks_new_reports_with_counts(
    api: Api, desks: DeskWorld, db: Database, doc: dict[str, Any]
) -> None:
    first, _ = submit(db, desks.factory_a, "no pay")
    second, _ = submit(db, desks.factory_a, "forced overtime", language="ms")
    submit(db, desks.factory_b, "for desk B only")
    response = api.call("GET", "/queue")
    assert response.status_code == 200
    check_documented(doc, response, "GET", "/queue")
    body = response.get_json()
    assert {item["id"] for item in body["items"]} == {first, second}
    assert body["next"] is None
    assert body["counts"]["status"] == {"new": 2}
    assert body["counts"]["language"] == {"en": 1, "ms": 1}
    assert "no pay" not in response.get_data(as_text=True)  # the queue shows no words
    assert [item["worker_wrote"] for item in body["items"]] == [False, False]


def test_queue_pages_with_the_next_cursor(
    api: Api, desks: DeskWorld, db: Database, doc: dict[str, Any]
) -> None:
    ids = {submit(db, desks.factory_a, f"report {n}")[0] for n in range(3)}
    seen: list[str] = []
    query = "?limit=2"
    while True:
        response = api.call("GET", "/queue" + query)
        check_documented(doc, response, "GET", "/queue")
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        if body["next"] is None:
            break
        query = f"?limit=2&after={body['next']}"
    assert len(seen) == 3 and set(seen) == ids


def test_queue_filters_take_the_uis_names_and_values(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    ms, _ = submit(db, desks.factory_a, "gaji", language="ms", categories=("wages",))
    en, _ = submit(db, desks.factory_a, "hours", categories=("hours",))

    def ids(query: str) -> list[str]:
        response = api.call("GET", "/queue?" + query)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids("language=ms") == [ms]
    assert ids("category=hours") == [en]
    assert set(ids("country=my")) == {ms, en}
    assert ids("country=MX") == []
    assert ids(f"facility={desks.factory_b.id}") == []
    assert ids("age=older") == []
    api.call("GET", f"/reports/{en}")  # opened: now in triage
    assert ids("status=new") == [ms]
    assert ids("status=in_triage") == [en]
    assert set(ids("status=all")) == {ms, en}


@pytest.mark.parametrize("query", [
    "status=bogus", "status=", "facility=abc", "facility=99999999999", "facility=%C2%B2",
    "facility=-1", "country=MYS", "country=1", "language=xx", "channel=fax", "category=nope",
    "age=2d", "after=garbage", "after=9.2024-01-01.0123456789abcdef0123456789abcdef",
    "limit=0", "limit=101", "limit=ten", "colour=red",
])
def test_queue_refuses_unknown_parameters_and_values(api: Api, query: str) -> None:
    body = assert_error(api.call("GET", "/queue?" + query), 400, "bad_request")
    assert body["detail"]


# --- one report -------------------------------------------------------------------------------


def test_opening_a_report_decrypts_it_and_writes_an_audit_event(
    api: Api, desks: DeskWorld, db: Database, doc: dict[str, Any]
) -> None:
    report_id, _ = submit(db, desks.factory_a, "They keep our passports in the office.")
    response = api.call("GET", f"/reports/{report_id}")
    assert response.status_code == 200
    check_documented(doc, response, "GET", "/reports/{report_id}")
    body = response.get_json()
    assert body["details"] == "They keep our passports in the office."
    assert body["facility"]["name"] == "Penang Circuit Assembly"
    assert body["triage"]["status"] == "in_triage"
    with db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report.open")).all()
        assert [(e.actor_id, e.desk_id, e.object_id) for e in events] == [
            (desks.alice.account_id, desks.a.desk.id, report_id)]
        assert "passports" not in (events[0].detail or "")


def test_the_thread_includes_desk_replies(
    api: Api, desks: DeskWorld, db: Database, doc: dict[str, Any]
) -> None:
    report_id, _ = submit(db, desks.factory_a, "no pay")
    api.call("POST", f"/reports/{report_id}/replies", {"text": "We are on it."})
    response = api.call("GET", f"/reports/{report_id}")
    check_documented(doc, response, "GET", "/reports/{report_id}")
    assert [(e["author"], e["author_name"], e["text"], e["delivery"])
            for e in response.get_json()["thread"]] == [("desk", "Alice", "We are on it.", None)]


def test_patch_records_triage_decisions(
    api: Api, desks: DeskWorld, db: Database, doc: dict[str, Any]
) -> None:
    report_id, _ = submit(db, desks.factory_a, "dorm is locked at night")
    other, _ = submit(db, desks.factory_a, "same again")
    response = api.call("PATCH", f"/reports/{report_id}", {
        "category": "safety", "severity": "immediate_danger", "tags": ["Night shift", "dorm"],
        "assignee_id": desks.amir.account_id, "duplicate_of": other})
    assert response.status_code == 200
    check_documented(doc, response, "PATCH", "/reports/{report_id}")
    body = response.get_json()
    assert (body["category"], body["severity"], body["tags"], body["assignee_id"]) == (
        "safety", "immediate_danger", ["night shift", "dorm"], desks.amir.account_id)
    closed = api.call("PATCH", f"/reports/{report_id}", {
        "status": "no_action", "no_action_reason": "duplicate", "assignee_id": None})
    check_documented(doc, closed, "PATCH", "/reports/{report_id}")
    triage = triage_of(db, desks.a, report_id)
    assert triage.status is TriageStatus.NO_ACTION and triage.no_action_reason == "duplicate"
    assert triage.assignee_id is None and str(triage.duplicate_of_id) == other
    with db.transaction() as session:
        actions = set(session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_id == report_id)))
    assert {"report.category", "report.severity", "report.tags", "report.assign",
            "report.duplicate", "report.status"} <= actions


@pytest.mark.parametrize(("change", "message"), [
    ({"status": "in_case"}, "a report is linked to a case from the case page"),
    ({"status": "no_action"}, "choose why no action is needed"),
    ({"assignee_id": 2_000_000_000}, "reports can only be assigned to members of this desk"),
])
def test_patch_refused_by_triage_rules_says_why_and_changes_nothing(
    api: Api, desks: DeskWorld, db: Database, change: dict[str, Any], message: str
) -> None:
    report_id, _ = submit(db, desks.factory_a, "x")
    before = triage_state(db, desks.a, report_id)
    body = assert_error(api.call("PATCH", f"/reports/{report_id}",
                                 {"category": "safety", **change}), 400, "bad_request")
    assert body["detail"] == message
    assert triage_state(db, desks.a, report_id) == before


def test_reply_is_sealed_to_the_worker_and_sent_by_sms(
    app: Flask, api: Api, desks: DeskWorld, db: Database, twilio: TwilioFake,
    doc: dict[str, Any],
) -> None:
    with db.transaction() as session:
        factories.sms_number(session, "+60326000100", country="MY", language="en")
    report_id, receipt = submit(db, desks.factory_a, "no pay", number="+60123456789")
    response = api.call("POST", f"/reports/{report_id}/replies",
                        {"text": "We are looking into it."})
    assert response.status_code == 201
    check_documented(doc, response, "POST", "/reports/{report_id}/replies")
    body = response.get_json()
    assert (body["sms"], body["segments"], body["encoding"]) == (True, 1, "GSM-7")
    run_jobs(app)
    assert [call.form.get("Body") for call in twilio.created()] == ["We are looking into it."]
    with db.transaction() as session:
        report, worker_key = find_by_receipt(session, receipt, profile=TEST_FAST)
        assert "We are looking into it." in [
            e.text for e in thread_for(session, report, worker_key).entries]
    shown = api.call("GET", f"/reports/{report_id}")
    check_documented(doc, shown, "GET", "/reports/{report_id}")
    assert [e["delivery"] for e in shown.get_json()["thread"]] == ["sent"]


def test_reply_with_an_escaped_surrogate_pair_is_one_character(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    """JSON spells a character outside the BMP as two escapes; together they are text."""
    report_id, receipt = submit(db, desks.factory_a, "no pay")
    response = api.call("POST", f"/reports/{report_id}/replies",
                        data='{"text": "Thank you \\ud83d\\ude4f"}')
    assert response.status_code == 201
    with db.transaction() as session:
        report, worker_key = find_by_receipt(session, receipt, profile=TEST_FAST)
        assert "Thank you \U0001f64f" in [
            e.text for e in thread_for(session, report, worker_key).entries]


def test_reply_to_a_worker_without_sms_consent_is_web_only(
    app: Flask, api: Api, desks: DeskWorld, db: Database, twilio: TwilioFake
) -> None:
    report_id, _ = submit(db, desks.factory_a, "no pay")
    response = api.call("POST", f"/reports/{report_id}/replies", {"text": "Kami terima 你好"})
    assert response.status_code == 201
    assert (response.get_json()["sms"], response.get_json()["encoding"]) == (False, "UCS-2")
    run_jobs(app)
    assert twilio.created() == []


# --- cases ------------------------------------------------------------------------------------


def test_cases_are_listed_and_opened_decrypted_and_audited(
    api: Api, desks: DeskWorld, db: Database, doc: dict[str, Any]
) -> None:
    report_id, _ = submit(db, desks.factory_a, "wages unpaid for March")
    case_id = case_of(db, desks.a, desks.factory_a.id, report_id, desks.alice)
    listed = api.call("GET", "/cases")
    assert listed.status_code == 200
    check_documented(doc, listed, "GET", "/cases")
    assert [(c["id"], c["title"], c["report_count"]) for c in listed.get_json()["items"]] == [
        (case_id, "Wages unpaid since March", 1)]
    assert api.call("GET", "/cases?status=closed_other").get_json()["items"] == []
    opened = api.call("GET", f"/cases/{case_id}")
    assert opened.status_code == 200
    check_documented(doc, opened, "GET", "/cases/{case_id}")
    body = opened.get_json()
    assert [r["details"] for r in body["reports"]] == ["wages unpaid for March"]
    with db.transaction() as session:
        assert session.scalar(select(AuditEvent.actor_id).where(
            AuditEvent.action == "case.open", AuditEvent.object_id == case_id)) \
            == desks.alice.account_id


@pytest.mark.parametrize("query", ["status=bogus", "colour=red"])
def test_case_list_refuses_unknown_parameters(api: Api, query: str) -> None:
    assert_error(api.call("GET", "/cases?" + query), 400, "bad_request")


# --- another desk's objects -------------------------------------------------------------------

# Every route with an object id, and a valid body for it: a new such route must be added here.
OBJECT_ROUTES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("/reports/{report_id}", "GET"): None,
    ("/reports/{report_id}", "PATCH"): {"category": "safety"},
    ("/reports/{report_id}/replies", "POST"): {"text": "hello from desk A"},
    ("/cases/{case_id}", "GET"): None,
}


def test_the_table_below_covers_every_route_with_an_object_id(app: Flask) -> None:
    assert {route for route in api_routes(app) if "{" in route[0]} == set(OBJECT_ROUTES)


@pytest.fixture
def desk_b_objects(desks: DeskWorld, db: Database) -> dict[str, str]:
    report_id, _ = submit(db, desks.factory_b, "desk B's report")
    return {"report_id": report_id,
            "case_id": case_of(db, desks.b, desks.factory_b.id, report_id, desks.bella)}


@pytest.mark.parametrize(("path", "method"), list(OBJECT_ROUTES))
def test_another_desks_object_is_not_found_like_no_object_at_all(
    api: Api, desks: DeskWorld, db: Database, desk_b_objects: dict[str, str], path: str,
    method: str,
) -> None:
    body = OBJECT_ROUTES[(path, method)]
    before = triage_state(db, desks.b, desk_b_objects["report_id"])
    theirs = api.call(method, path.format(**desk_b_objects), body)
    nobodys = api.call(method, path.format(report_id=uuid.uuid4(), case_id=uuid.uuid4()), body)
    assert_error(theirs, 404, "not_found")
    assert (theirs.status_code, theirs.get_json()) == (nobodys.status_code, nobodys.get_json())
    assert triage_state(db, desks.b, desk_b_objects["report_id"]) == before
    with db.transaction() as session:
        report = session.get_one(Report, uuid.UUID(desk_b_objects["report_id"]))
        assert report.messages == []
        assert session.scalars(select(AuditEvent).where(
            AuditEvent.actor_id == desks.alice.account_id,
            AuditEvent.object_id.in_(desk_b_objects.values()))).all() == []


def test_another_desks_report_is_no_duplicate_target(
    api: Api, desks: DeskWorld, db: Database, desk_b_objects: dict[str, str]
) -> None:
    report_id, _ = submit(db, desks.factory_a, "mine")
    theirs = api.call("PATCH", f"/reports/{report_id}",
                      {"duplicate_of": desk_b_objects["report_id"]})
    nobodys = api.call("PATCH", f"/reports/{report_id}", {"duplicate_of": str(uuid.uuid4())})
    assert_error(theirs, 400, "bad_request")
    assert theirs.get_json() == nobodys.get_json()
    assert triage_of(db, desks.a, report_id).duplicate_of_id is None


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "method"), list(OBJECT_ROUTES))
def test_an_id_that_is_no_uuid_is_not_found(api: Api, path: str, method: str) -> None:
    body = OBJECT_ROUTES[(path, method)]
    for bad in ("not-a-uuid", "1", "%00", "..%2F..%2Fqueue", "x" * 300):
        response = api.call(method, path.format(report_id=bad, case_id=bad), body)
        assert_error(response, 404, "not_found")


BAD_TRIAGE_BODIES: list[tuple[str | bytes, str]] = [
    ("{", "application/json"),
    ("", "application/json"),
    ("[]", "application/json"),
    ('"safety"', "application/json"),
    ("[" * 50_000, "application/json"),
    (b'\xff\xfe{"category": "safety"}', "application/json"),
    ('{"category": "safety"}', "text/plain"),
    ('{"category": "safety"}', "application/x-www-form-urlencoded"),
    ('{"colour": "red"}', "application/json"),
    ('{"category": 5}', "application/json"),
    ('{"category": "nonsense"}', "application/json"),
    ('{"severity": "apocalyptic"}', "application/json"),
    ('{"status": "closed"}', "application/json"),
    ('{"no_action_reason": "bored"}', "application/json"),
    ('{"tags": "a,b"}', "application/json"),
    ('{"tags": [1]}', "application/json"),
    ('{"tags": ["a,b"]}', "application/json"),
    (json.dumps({"tags": [f"t{n}" for n in range(11)]}), "application/json"),
    (json.dumps({"tags": ["x" * 33]}), "application/json"),
    ('{"assignee_id": true}', "application/json"),
    ('{"assignee_id": "3"}', "application/json"),
    ('{"assignee_id": 1.5}', "application/json"),
    ('{"assignee_id": -1}', "application/json"),
    ('{"assignee_id": NaN}', "application/json"),
    ('{"assignee_id": 99999999999999999999999999}', "application/json"),
    ('{"duplicate_of": "not-a-uuid"}', "application/json"),
    ('{"duplicate_of": 7}', "application/json"),
    # half a surrogate pair: valid JSON, but no UTF-8 text (a 500 until session 10)
    ('{"tags": ["a\\ud800b"]}', "application/json"),
    ('{"no_action_reason": "\\udfff"}', "application/json"),
    ('{"\\ud800": "safety"}', "application/json"),
]


@pytest.mark.parametrize(("data", "content_type"), BAD_TRIAGE_BODIES,
                         ids=[f"body{n}" for n in range(len(BAD_TRIAGE_BODIES))])
def test_bad_triage_body_is_a_400_and_changes_nothing(
    api: Api, desks: DeskWorld, db: Database, data: str | bytes, content_type: str
) -> None:
    report_id, _ = submit(db, desks.factory_a, "x")
    before = triage_state(db, desks.a, report_id)
    response = api.call("PATCH", f"/reports/{report_id}", data=data, content_type=content_type)
    assert assert_error(response, 400, "bad_request")["detail"]
    assert triage_state(db, desks.a, report_id) == before


@pytest.mark.parametrize("data", [
    "{}", '{"text": null}', '{"text": 5}', '{"text": "   "}', json.dumps({"text": "x" * 1001}),
    '{"text": "hi", "cc": "someone"}', "not json",
    '{"text": "a\\ud800b"}', '{"text": "\\udc00\\ud83d"}',  # halves of surrogate pairs
])
def test_bad_reply_body_is_a_400_and_sends_nothing(
    api: Api, desks: DeskWorld, db: Database, data: str
) -> None:
    report_id, _ = submit(db, desks.factory_a, "x")
    response = api.call("POST", f"/reports/{report_id}/replies", data=data)
    assert assert_error(response, 400, "bad_request")["detail"]
    with db.transaction() as session:
        assert session.get_one(Report, uuid.UUID(report_id)).messages == []


def test_body_over_the_size_limit_is_refused_as_json(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "x")
    big = json.dumps({"text": "x" * (70 * 1024)})
    assert_error(api.call("POST", f"/reports/{report_id}/replies", data=big), 413, "too_large")


def test_unknown_path_and_method_get_json_answers(api: Api) -> None:
    assert_error(api.call("GET", "/nothing-here"), 404, "not_found")
    assert_error(api.call("GET", "/queue/"), 404, "not_found")
    wrong = api.call("DELETE", f"/reports/{uuid.uuid4()}")
    assert_error(wrong, 405, "method_not_allowed")
    assert {"GET", "PATCH"} <= {m.strip() for m in wrong.headers["Allow"].split(",")}
    assert_error(api.call("POST", "/queue", {}), 405, "method_not_allowed")


def test_api_answers_are_never_cached(api: Api, desks: DeskWorld, db: Database) -> None:
    report_id, _ = submit(db, desks.factory_a, "x")
    for response in (api.call("GET", f"/reports/{report_id}"), api.call("GET", "/queue"),
                     api.call("GET", "/queue?limit=0")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- the OpenAPI document ---------------------------------------------------------------------


def documented_routes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in doc["paths"].items()
            for method in item if method in HTTP_METHODS}


def test_every_api_route_is_documented_and_every_documented_route_exists(
    app: Flask, doc: dict[str, Any]
) -> None:
    assert doc["servers"] == [{"url": PREFIX}]
    assert api_routes(app) == documented_routes(doc)


def test_documented_path_parameters_match_the_paths(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), path


def test_openapi_document_is_valid_openapi_3_1_with_bearer_security(
    client: FlaskClient, doc: dict[str, Any]
) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"], "type": "http",
        "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []
    assert client.get(f"{PREFIX}/openapi.json").headers["Cache-Control"] == "no-store"


def test_error_answers_match_the_documented_error_schema(
    api: Api, doc: dict[str, Any]
) -> None:
    check_documented(doc, api.call("GET", "/queue?status=bogus"), "GET", "/queue")
    check_documented(doc, api.call("GET", "/queue", token="wvi_1_nope"), "GET", "/queue")
    check_documented(doc, api.call("GET", f"/reports/{uuid.uuid4()}"), "GET",
                     "/reports/{report_id}")


def test_a_client_sending_wrong_tokens_is_stopped_while_others_are_served(
    app: Flask, api: Api
) -> None:
    app.extensions["intake.limiter"].enabled = True
    guesser = {"REMOTE_ADDR": "192.0.2.66"}
    statuses = [
        api.client.get(f"{PREFIX}/queue", environ_base=guesser,
                       headers={"Authorization": "Bearer " + _retarget(api.token, secret=b"x" * 32)}
                       ).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    assert api.call("GET", "/queue").status_code == 200  # another client, right token
