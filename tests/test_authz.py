"""Authorization matrix (issue 9, item 6): every route of the app x every role x objects of
desk A and buyer A. The expected answer of each cell is written in one table, ``MATRIX``; a
route (or a method of a route) without a row fails ``test_every_route_has_a_row``.

The world (two desks, two buyer organisations, a case with an alert, a worker's receipt) is
built once for the module; each role runs every cell against it. A role's refusals run first
and must leave every row of every table as it was. The matrix runs last in the module, and
the owners of desk A's and buyer A's objects last in it, since their allowed cells change the
world. Around it: desk B asking for desk A's objects at its own desk's address, ids that do
not exist, the API without a token, and a worker's receipt against another report.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from crypto.hierarchy import TEST_FAST, unwrap_account_key, wrap_account_key
from crypto.keys import PrivateKey
from intake.accounts.members import invite
from intake.accounts.models import Account, Membership, Role
from intake.alerts.service import create_webhook
from intake.api.tokens import issue
from intake.audit.models import AuditEvent
from intake.db import Base, Database
from intake.once import new_nonce
from intake.remedy import service as remedy
from intake.remedy.models import ActionOwner
from intake.reports.models import Report, ReportMessage
from intake.reports.service import add_desk_reply
from intake.settings import Settings
from intake.supplychain.models import BuyerOrg
from tests import twilio_fake
from tests.buyers.conftest import add_alert, approved_case
from tests.conftest import TEST_REDIS_URL, running_app, wipe, wipe_redis
from tests.monitor.conftest import (
    PASSWORD,
    Browser,
    DeskWorld,
    Member,
    make_desk_world,
    make_member,
    submit,
)

# Roles run in this order: the owners of the objects last, since their cells change them.
ROLES = ("anonymous", "worker", "pending", "monitor_b", "buyer_b", "admin", "buyer_a",
         "monitor_a")

# What a role gets. "ok": allowed (below 500, not 401/403/404, not the sign-in page, not a
# refused form). "login": a redirect to the sign-in page. A number: exactly that status.
OK, LOGIN = "ok", "login"
PUBLIC = dict.fromkeys(ROLES, OK)
SIGNED_IN = {**PUBLIC, "anonymous": LOGIN, "worker": LOGIN}  # any account
MONITOR_PAGE = {**SIGNED_IN, "buyer_a": 404, "buyer_b": 404}  # monitors and admins
NOBODY = {**dict.fromkeys(ROLES, 404), "anonymous": LOGIN, "worker": LOGIN}
DESK_PAGE = {**NOBODY, "monitor_a": OK}  # desk A's pages and objects
ADMIN_PAGE = {**NOBODY, "admin": OK}
BUYER_PAGE = {**NOBODY, "buyer_a": OK, "buyer_b": OK}  # any buyer's own portal
OWN_ALERT = {**NOBODY, "buyer_a": OK}  # buyer A's alert, webhook, actions
SIGN_IN_FIRST = dict.fromkeys(ROLES, LOGIN)  # only a half-signed-in session may enrol
API = {**dict.fromkeys(ROLES, 401), "monitor_b": 404, "monitor_a": OK}  # bearer tokens only
API_LIST = {**API, "monitor_b": OK}  # a desk's own list (desk B's is empty)
WRONG_PASSWORD = dict.fromkeys(ROLES, 401)  # anyone may try to sign in
TWILIO_UNSIGNED = dict.fromkeys(ROLES, 403)  # no session opens a webhook: only a signature


Cell = tuple[str, str, str]  # (endpoint, method, rule with its variables as {name})


@dataclass(frozen=True)
class Row:
    expect: dict[str, Any]
    form: dict[str, str] = field(default_factory=dict)
    fill: dict[str, str] = field(default_factory=dict)  # values for this row only


# Every route and method -> what each role gets. Paths and forms name objects ({case_id});
# the ids filled in are always desk A's and buyer A's, whoever asks.
MATRIX: dict[Cell, Row] = {
    # worker pages and Twilio webhooks: public, or signed by Twilio
    ("web.start", "GET", "/"): Row(PUBLIC),
    ("web.home", "GET", "/{lang}/"): Row(PUBLIC),
    ("web.negotiated", "GET", "/report"): Row(PUBLIC),
    ("web.negotiated", "GET", "/followup"): Row(PUBLIC),
    ("web.report", "GET", "/{lang}/report"): Row(PUBLIC),
    ("web.report_step", "POST", "/{lang}/report"): Row(PUBLIC, {"step": "workplace",
                                                               "go": "next"}),
    ("web.followup", "GET", "/{lang}/followup"): Row(PUBLIC),
    ("web.followup_post", "POST", "/{lang}/followup"): Row(PUBLIC, {"receipt": "1234"}),
    ("web.static", "GET", "/static/web/{filename}"): Row(PUBLIC, fill={"filename":
                                                                       "worker.css"}),
    ("sms.inbound", "POST", "/twilio/sms"): Row(TWILIO_UNSIGNED, {"Body": "hello"}),
    ("sms.status", "POST", "/twilio/sms/status"): Row(TWILIO_UNSIGNED,
                                                      {"MessageStatus": "delivered"}),
    ("health.healthz", "GET", "/healthz"): Row(PUBLIC),
    ("static", "GET", "/static/{filename}"): Row(PUBLIC, fill={"filename": "monitor.css"}),
    # signing in
    ("auth.login", "GET", "/monitor/login"): Row(PUBLIC),
    ("auth.login", "POST", "/monitor/login"): Row(WRONG_PASSWORD, {"email": "x@y.example"}),
    ("auth.enrol", "GET", "/monitor/enrol"): Row(SIGN_IN_FIRST),
    ("auth.enrol", "POST", "/monitor/enrol"): Row(SIGN_IN_FIRST, {"code": "000000"}),
    ("auth.logout", "POST", "/monitor/logout"): Row(SIGN_IN_FIRST),
    ("auth.password", "GET", "/monitor/password"): Row(SIGNED_IN),
    ("auth.password", "POST", "/monitor/password"): Row(SIGNED_IN, {"current": "wrong"}),
    # the desk
    ("triage.home", "GET", "/monitor/"): Row(MONITOR_PAGE),
    ("triage.queue", "GET", "/monitor/d/{desk_id}/"): Row(DESK_PAGE),
    ("triage.audit", "GET", "/monitor/d/{desk_id}/audit"): Row(DESK_PAGE),
    ("triage.enter", "GET", "/monitor/d/{desk_id}/enter"): Row(DESK_PAGE),
    ("triage.enter", "POST", "/monitor/d/{desk_id}/enter"): Row(DESK_PAGE, {"details": ""}),
    ("triage.report", "GET", "/monitor/d/{desk_id}/reports/{report_id}"): Row(DESK_PAGE),
    ("triage.reply", "POST", "/monitor/d/{desk_id}/reports/{report_id}/reply"): Row(
        DESK_PAGE, {"text": "hello", "action": "preview"}),
    ("triage.decide", "POST", "/monitor/d/{desk_id}/reports/{report_id}/triage"): Row(
        DESK_PAGE, {"severity": "serious"}),
    ("auth.member_list", "GET", "/monitor/d/{desk_id}/members"): Row(DESK_PAGE),
    ("auth.desk_settings", "POST", "/monitor/d/{desk_id}/settings"): Row(
        DESK_PAGE, {"k_threshold": "3", "alert_batch_hour": "6"}),
    ("auth.member_invite", "POST", "/monitor/d/{desk_id}/members/invite"): Row(
        DESK_PAGE, {"email": "x@y.example", "display_name": "X"}),
    ("auth.member_approve", "POST",
     "/monitor/d/{desk_id}/members/{membership_id}/approve"): Row(DESK_PAGE),
    ("auth.member_new_password", "POST",
     "/monitor/d/{desk_id}/members/{membership_id}/password"): Row(DESK_PAGE),
    ("auth.member_remove", "POST",
     "/monitor/d/{desk_id}/members/{membership_id}/remove"): Row(DESK_PAGE),
    ("cases.case_list", "GET", "/monitor/d/{desk_id}/cases/"): Row(DESK_PAGE),
    ("cases.new_case", "POST", "/monitor/d/{desk_id}/cases/"): Row(DESK_PAGE, {"title": "t"}),
    ("cases.case_page", "GET", "/monitor/d/{desk_id}/cases/{case_id}"): Row(DESK_PAGE),
    ("cases.add_note", "POST", "/monitor/d/{desk_id}/cases/{case_id}/notes"): Row(
        DESK_PAGE, {"text": "n"}),
    ("cases.link", "POST", "/monitor/d/{desk_id}/cases/{case_id}/reports"): Row(
        DESK_PAGE, {"report_ids": ""}),
    ("cases.unlink", "POST",
     "/monitor/d/{desk_id}/cases/{case_id}/reports/{report_id}/unlink"): Row(DESK_PAGE),
    ("cases.set_status", "POST", "/monitor/d/{desk_id}/cases/{case_id}/status"): Row(
        DESK_PAGE, {"status": "open"}),
    ("cases.save_summary", "POST", "/monitor/d/{desk_id}/cases/{case_id}/summary"): Row(
        DESK_PAGE, {"text": "s"}),
    ("cases.review_summary", "POST",
     "/monitor/d/{desk_id}/cases/{case_id}/summary/review"): Row(DESK_PAGE),
    ("tokens.token_list", "GET", "/monitor/d/{desk_id}/tokens"): Row(DESK_PAGE),
    ("tokens.token_create", "POST", "/monitor/d/{desk_id}/tokens"): Row(DESK_PAGE,
                                                                        {"name": "n"}),
    ("tokens.token_revoke", "POST", "/monitor/d/{desk_id}/tokens/{token_id}/revoke"): Row(
        DESK_PAGE),
    ("dashboards.desk_dashboard", "GET", "/monitor/d/{desk_id}/dashboard"): Row(DESK_PAGE),
    ("dashboards.desk_dashboard_csv", "GET", "/monitor/d/{desk_id}/dashboard.csv"): Row(
        DESK_PAGE),
    ("verdicts.ask", "POST", "/monitor/d/{desk_id}/cases/{case_id}/verdicts/request"): Row(
        DESK_PAGE),
    ("alerts.alert_buyers", "POST", "/monitor/d/{desk_id}/cases/{case_id}/alerts"): Row(
        DESK_PAGE),
    ("alerts.add_buyer", "POST", "/monitor/d/{desk_id}/cases/{case_id}/alerts/buyers"): Row(
        DESK_PAGE, {"buyer_org_id": "{org_id}"}),
    ("remedy.add_action", "POST", "/monitor/d/{desk_id}/cases/{case_id}/remedy/actions"): Row(
        DESK_PAGE, {"description": "Pay", "owner": "desk"}),
    ("remedy.action_status", "POST",
     "/monitor/d/{desk_id}/cases/{case_id}/remedy/actions/{action_id}/status"): Row(
        DESK_PAGE, {"status": "in_progress"}),
    ("remedy.mark_remedied", "POST",
     "/monitor/d/{desk_id}/cases/{case_id}/remedy/remedied"): Row(DESK_PAGE),
    ("remedy.thread_post", "POST", "/monitor/d/{desk_id}/cases/{case_id}/thread"): Row(
        DESK_PAGE, {"body": "Hi"}),
    ("remedy.thread_visibility", "POST",
     "/monitor/d/{desk_id}/cases/{case_id}/thread/{message_id}/visibility"): Row(
        DESK_PAGE, {"hidden": "1"}),
    # the platform admin
    ("admin.import_page", "GET", "/monitor/admin/import"): Row(ADMIN_PAGE),
    ("admin.import_page", "POST", "/monitor/admin/import"): Row(ADMIN_PAGE,
                                                                {"kind": "facilities"}),
    # the buyer portal
    ("buyer.home", "GET", "/buyer/"): Row(BUYER_PAGE),
    ("buyer.alert", "GET", "/buyer/alerts/{alert_id}"): Row(OWN_ALERT),
    ("buyer.acknowledge", "POST", "/buyer/alerts/{alert_id}/acknowledge"): Row(OWN_ALERT),
    ("buyer.record_action", "POST", "/buyer/alerts/{alert_id}/actions"): Row(
        OWN_ALERT, {"kind": "joint_letter", "description": "Wrote a letter",
                    "remedy_action": "{action_id}"}),
    ("buyer.post_message", "POST", "/buyer/alerts/{alert_id}/thread"): Row(
        OWN_ALERT, {"body": "Hello"}),
    ("buyer.webhooks", "GET", "/buyer/webhooks"): Row(BUYER_PAGE),
    ("buyer.add_webhook", "POST", "/buyer/webhooks"): Row(
        BUYER_PAGE, {"url": "https://hooks.westhaven.example/x"}),
    ("buyer.disable_webhook", "POST", "/buyer/webhooks/{webhook_id}/disable"): Row(OWN_ALERT),
    ("dashboards.buyer_dashboard", "GET", "/buyer/dashboard"): Row(BUYER_PAGE),
    ("dashboards.buyer_dashboard_csv", "GET", "/buyer/dashboard.csv"): Row(BUYER_PAGE),
    # the JSON API (bearer tokens of desk A and desk B; nobody else holds one)
    ("api.openapi_json", "GET", "/api/v1/openapi.json"): Row(PUBLIC),
    ("api.queue", "GET", "/api/v1/queue"): Row(API_LIST),
    ("api.cases", "GET", "/api/v1/cases"): Row(API_LIST),
    ("api.case", "GET", "/api/v1/cases/{case_id}"): Row(API),
    ("api.report", "GET", "/api/v1/reports/{report_id}"): Row(API),
    ("api.triage", "PATCH", "/api/v1/reports/{report_id}"): Row(API, {"severity": "serious"}),
    ("api.reply", "POST", "/api/v1/reports/{report_id}/replies"): Row(API, {"text": "hello"}),
}
# Cells that end the token, the membership or the session: each role's last, in this order.
LAST = (("tokens.token_revoke", "POST"), ("auth.member_remove", "POST"),
        ("auth.logout", "POST"))
VARIABLE = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")  # <int(max=...):name> too
REFUSED_FORM = ("Form expired", "form was open too long")


def template_of(rule: Rule) -> str:
    return VARIABLE.sub(lambda m: "{" + m.group(1) + "}", rule.rule)


def test_every_route_has_a_row(module_app: Flask) -> None:
    routes = {(rule.endpoint, method, template_of(rule))
              for rule in module_app.url_map.iter_rules()
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert len(routes) > 60  # the walk really walks the app
    assert routes - set(MATRIX) == set(), "add these routes to the authorization matrix"
    assert set(MATRIX) - routes == set(), "the matrix names routes that no longer exist"


def test_every_role_has_a_cell_in_every_row() -> None:
    for key, row in MATRIX.items():
        assert set(row.expect) == set(ROLES), key


# --- the world, built once for the module --------------------------------------------------


@pytest.fixture(scope="module")
def module_twilio() -> Iterator[twilio_fake.TwilioFake]:
    fake, server = twilio_fake.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory, database_url: str,
                    migrated_engine: Engine,
                    module_twilio: twilio_fake.TwilioFake) -> Iterator[Settings]:
    """The shared ``settings`` fixture's values, for a whole module (that one is per test);
    like it, leaves the database and Redis empty for the next test."""
    instance: Path = tmp_path_factory.mktemp("authz") / "instance"
    instance.mkdir()
    yield Settings(
        database_url=database_url, instance_path=instance, secret_key=secrets.token_bytes(32),
        pepper=secrets.token_bytes(32), redis_url=TEST_REDIS_URL,
        courier_key=PrivateKey.generate().to_bytes(), public_url="https://intake.test",
        twilio_account_sid="AC" + "0" * 32, twilio_auth_token=secrets.token_hex(16),
        twilio_api_base=module_twilio.url, fast_kdf=True, testing=True,
    )
    wipe(migrated_engine)
    if TEST_REDIS_URL:
        wipe_redis(TEST_REDIS_URL)


@pytest.fixture(scope="module")
def module_app(module_settings: Settings) -> Iterator[Flask]:
    with running_app(module_settings) as app:
        yield app


@dataclass
class World:
    desks: DeskWorld
    values: dict[str, str]  # the ids the matrix's paths name: all desk A's and buyer A's
    desk_b: int
    members: dict[str, Member]  # role -> account
    tokens: dict[str, str]  # role -> API bearer token
    worker_report: str
    receipt: str  # the worker's
    own_reply: str  # the desk's reply on the worker's report
    other_reply: str  # the desk's reply on another report (desk A's case)
    waiting_alert: str  # buyer A's alert whose batch has not left yet


def _pending(session: Any, desks: DeskWorld, settings: Settings) -> Member:
    """Invited to desk A, signed up, waiting for two approvals."""
    alice = session.get_one(Account, desks.alice.account_id)
    pending = invite(session, desk=desks.a.desk, email="pending@desk-a.example",
                     display_name="Pending", invited_by=alice,
                     secret_key=settings.secret_key, profile=TEST_FAST)
    assert pending.new_account is not None
    account = pending.new_account.account
    account.totp_enrolled = True
    key = unwrap_account_key(account.wrapped_private_key, pending.new_account.password)
    account.wrapped_private_key = wrap_account_key(key, PASSWORD, profile=TEST_FAST)
    return Member(account.id, account.email, pending.new_account.totp_secret)


def _buyer(session: Any, settings: Settings, name: str, email: str) -> tuple[int, Member]:
    org = BuyerOrg(name=name, contact_email=email, share_identity=False)
    session.add(org)
    session.flush()
    member = make_member(session, settings, None, email, role=Role.BUYER)
    session.get_one(Account, member.account_id).buyer_org_id = org.id
    return org.id, member


def _reply(session: Any, report_id: str, text: str, desks: DeskWorld) -> None:
    add_desk_reply(session, session.get_one(Report, uuid.UUID(report_id)), text,
                   author_account_id=desks.alice.account_id)


@pytest.fixture(scope="module")
def world(module_app: Flask, module_settings: Settings) -> World:
    db: Database = module_app.extensions["intake.db"]
    settings = module_settings
    desks = make_desk_world(db, settings)
    alice = Browser(module_app.test_client(), db, environ={"REMOTE_ADDR": "198.51.100.1"})
    case_id, reports = approved_case(alice, desks, db)
    second_case, _ = approved_case(alice, desks, db)
    worker_report, receipt = submit(db, desks.factory_a, "My own report.")
    with db.transaction() as session:
        org_a, buyer_a = _buyer(session, settings, "City of Westhaven", "ann@westhaven.example")
        _, buyer_b = _buyer(session, settings, "Eastport Hospital Trust",
                            "bob@eastport.example")
        admin = make_member(session, settings, None, "root@platform.example", role=Role.ADMIN)
        pending = _pending(session, desks, settings)
        membership = session.scalar(select(Membership.id).where(
            Membership.account_id == desks.amir.account_id))
        token_a = issue(session, account=session.get_one(Account, desks.alice.account_id),
                        desk_id=desks.a.desk.id, desk_key=desks.a.key, name="a")
        token_b = issue(session, account=session.get_one(Account, desks.bella.account_id),
                        desk_id=desks.b.desk.id, desk_key=desks.b.key, name="b")
        action = remedy.add_action(session, desk_id=desks.a.desk.id, case_id=uuid.UUID(case_id),
                                   description="Pay back wages", owner=ActionOwner.SUPPLIER,
                                   buyer_org_id=None, due_on=None, evidence="",
                                   actor_id=desks.alice.account_id)
        message = remedy.desk_post(session, desk_id=desks.a.desk.id, case_id=uuid.UUID(case_id),
                                   body="Welcome", actor_id=desks.alice.account_id)
        hook, _ = create_webhook(session, buyer_org_id=org_a, url="http://127.0.0.1:9/a",
                                 secret_key=settings.secret_key)
        own_reply, other_reply = "Your wages are being checked.", "We are calling the plant."
        _reply(session, worker_report, own_reply, desks)
        _reply(session, reports[0], other_reply, desks)
        values = {"lang": "en", "desk_id": str(desks.a.desk.id), "case_id": case_id,
                  "report_id": reports[0], "membership_id": str(membership),
                  "token_id": str(token_a.row.id), "action_id": str(action.id),
                  "message_id": str(message.id), "webhook_id": str(hook.id),
                  "org_id": str(org_a)}
        tokens = {"monitor_a": token_a.text, "monitor_b": token_b.text,
                  "pending": "wvi_0_" + "A" * 43}
    values["alert_id"] = add_alert(db, case_id, org_a)
    waiting = add_alert(db, second_case, org_a, delivered=None)
    members = {"monitor_a": desks.alice, "monitor_b": desks.bella, "pending": pending,
               "buyer_a": buyer_a, "buyer_b": buyer_b, "admin": admin}
    return World(desks, values, desks.b.desk.id, members, tokens, worker_report, receipt,
                 own_reply, other_reply, waiting)


def forget_last_code(db: Database, member: Member) -> None:
    """Each test signs in afresh, more often than every 30 s: a TOTP code cannot be replayed,
    so act as if the last sign-in was long ago."""
    with db.transaction() as session:
        session.get_one(Account, member.account_id).totp_last_step = None


def browser_of(role: str, app: Flask, world: World) -> Browser:
    """A browser of ``role``, signed in as far as the role goes, holding a valid CSRF token."""
    db: Database = app.extensions["intake.db"]
    address = f"198.51.100.{10 + ROLES.index(role)}"  # one source per role: no shared limits
    browser = Browser(app.test_client(), db, environ={"REMOTE_ADDR": address})
    if role == "worker":
        browser.get("/en/followup")
        thread = browser.post("/en/followup", {"receipt": world.receipt})
        assert world.own_reply in thread.get_data(as_text=True)
    elif role in world.members:
        forget_last_code(db, world.members[role])
        assert browser.login(world.members[role]).status_code == 302
    browser.get("/monitor/password" if role in world.members else "/monitor/login")
    assert browser.token, "a fresh CSRF token: a refusal must not be the form's"
    return browser


# --- running a cell ------------------------------------------------------------------------


def request_cell(browser: Browser, key: Cell, values: dict[str, str],
                 token: str | None) -> TestResponse:
    _endpoint, method, template = key
    row = MATRIX[key]
    path = template.format(**{**values, **row.fill})
    form = {name: value.format(**values) for name, value in row.form.items()}
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return browser.client.open(path, method=method, headers=headers,
                                   json=form if method != "GET" else None,
                                   environ_base=browser.environ)
    if method == "GET":
        return browser.get(path)
    # A fresh nonce, as the page of a form that creates something carries (intake.once).
    return browser.post(path, {"nonce": new_nonce(), **form})


def refusal(expected: Any, response: TestResponse) -> str | None:
    """Why ``response`` is not the ``expected`` answer, or None when it is."""
    status, location = response.status_code, response.headers.get("Location", "")
    if expected == OK:
        page = response.get_data(as_text=True)
        if status >= 500 or status in (401, 403, 404):
            return f"got {status}"
        if "/monitor/login" in location:
            return "sent to sign in"
        if any(text in page for text in REFUSED_FORM):
            return "CSRF refused"
        return None
    if expected == LOGIN:
        good = status == 302 and "/monitor/login" in location
        return None if good else f"got {status} {location}, not the sign-in page"
    return None if status == expected else f"got {status}, not {expected}"


def run_cells(browser: Browser, cells: list[Cell], values: dict[str, str],
              token: str | None, expected: Any) -> list[str]:
    """Every cell that does not answer as expected (``expected(key)`` gives the answer)."""
    wrong = []
    for key in cells:
        response = request_cell(browser, key, values, token)
        why = refusal(expected(key), response)
        if why is not None:
            wrong.append(f"{key[1]} {key[2]} ({key[0]}): {why}")
    return wrong


# A token that authenticates records the day it was used, even when the object is refused.
NOT_THE_REQUESTS_DOING = {"api_tokens.last_used_on"}


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table: what a refused request must leave as it was."""
    with db.transaction() as session:
        return {table.name: sorted(repr(tuple(row)) for row in session.execute(select(
                    *(column for column in table.columns
                      if f"{table.name}.{column.name}" not in NOT_THE_REQUESTS_DOING))))
                for table in Base.metadata.sorted_tables}


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """The rows that appeared (+) or went (-), by table, shortened."""
    return [f"{name} {'+' if row in after[name] else '-'} {row[:160]}" for name in before
            for row in sorted(set(after[name]) ^ set(before[name]))]


def cells_of(role: str) -> tuple[list[Cell], list[Cell]]:
    """(what the role is refused, the rest). Refusals run first, in a world the role has not
    touched yet, and must leave it as it was; the cells of ``LAST`` end the rest."""
    refused = [key for key in MATRIX
               if MATRIX[key].expect[role] != OK and key[:2] not in LAST]
    rest = sorted((key for key in MATRIX if key not in refused),
                  key=lambda key: LAST.index(key[:2]) if key[:2] in LAST else -1)
    return refused, rest


# --- objects of another desk through one's own desk's pages ---------------------------------
# The matrix asks for desk A's objects at desk A's address, where a member of desk B is
# refused for the address alone. Here desk B asks for them at its own desk's address.

OBJECTS = ("{report_id}", "{case_id}", "{membership_id}", "{token_id}", "{action_id}",
           "{message_id}")
THROUGH_OWN_DESK = [key for key in MATRIX if key[2].startswith("/monitor/d/{desk_id}/")
                    and any(name in key[2] for name in OBJECTS)]


def test_desk_b_opens_desk_a_objects_through_its_own_desk_and_gets_404(
    module_app: Flask, world: World
) -> None:
    browser = browser_of("monitor_b", module_app, world)
    db: Database = module_app.extensions["intake.db"]
    values = {**world.values, "desk_id": str(world.desk_b)}
    before = snapshot(db)
    assert len(THROUGH_OWN_DESK) >= 15
    assert run_cells(browser, THROUGH_OWN_DESK, values, None, lambda _key: 404) == []
    assert changed(before, snapshot(db)) == []


# --- ids that do not exist: 404 for the owners too -----------------------------------------

UNKNOWN = {"case_id": str(uuid.UUID(int=1)), "report_id": str(uuid.UUID(int=2)),
           "action_id": str(uuid.UUID(int=3)), "message_id": str(uuid.UUID(int=4)),
           "alert_id": str(uuid.UUID(int=5)), "membership_id": "999999", "token_id": "999999",
           "webhook_id": "999999"}


def unknown_cells(owner: str) -> list[tuple[Cell, str]]:
    """(row, object) for every row of ``owner``'s objects, once per object its path names."""
    return [(key, name) for key, row in MATRIX.items() if row.expect[owner] == OK
            for name in UNKNOWN if "{" + name + "}" in key[2]]


@pytest.mark.parametrize("owner", ["monitor_a", "buyer_a"])
def test_an_id_that_does_not_exist_is_404_for_the_owner_too(
    owner: str, module_app: Flask, world: World
) -> None:
    browser = browser_of(owner, module_app, world)
    db: Database = module_app.extensions["intake.db"]
    before = snapshot(db)
    wrong = []
    for key, name in unknown_cells(owner):
        response = request_cell(browser, key, {**world.values, name: UNKNOWN[name]},
                                world.tokens.get(owner))
        if response.status_code != 404:
            wrong.append(f"{key[1]} {key[2]} ({key[0]}), no such {name}: "
                         f"{response.status_code}")
    assert len(unknown_cells(owner)) >= 5
    assert wrong == []
    assert changed(before, snapshot(db)) == []


# --- the API: a bearer token, never the session cookie ---------------------------------------

API_CELLS = [key for key in MATRIX if key[0].startswith("api.") and key[0] != "api.openapi_json"]


def test_a_signed_in_monitor_without_a_token_gets_401_from_the_api(
    module_app: Flask, world: World
) -> None:
    # The API is exempt from CSRF because it reads no cookie; a cookie that opened it would
    # let any page the monitor visits act for them.
    browser = browser_of("monitor_a", module_app, world)
    assert len(API_CELLS) >= 6
    assert run_cells(browser, API_CELLS, world.values, None, lambda _key: 401) == []


# --- buyers: only their own delivered alerts ------------------------------------------------


@pytest.mark.parametrize("object_id", ["waiting_alert", "case_id", "action_id", "message_id",
                                       "not-a-uuid"])
def test_anything_but_a_delivered_alert_of_ones_own_is_404(
    object_id: str, module_app: Flask, world: World
) -> None:
    browser = browser_of("buyer_a", module_app, world)
    known = {**world.values, "waiting_alert": world.waiting_alert}
    path = f"/buyer/alerts/{known.get(object_id, object_id)}"
    assert browser.get(path).status_code == 404
    for suffix in ("/acknowledge", "/thread", "/actions"):
        response = browser.post(path + suffix, {"body": "x", "kind": "other",
                                                "description": "x"})
        assert response.status_code == 404, suffix


def test_refusals_leave_no_audit_trace_of_a_change(module_app: Flask, world: World) -> None:
    browser = browser_of("buyer_b", module_app, world)
    db: Database = module_app.extensions["intake.db"]
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    browser.post(f"/buyer/alerts/{world.values['alert_id']}/acknowledge")
    browser.post(f"/buyer/webhooks/{world.values['webhook_id']}/disable")
    with db.transaction() as session:
        after = session.scalar(select(func.count()).select_from(AuditEvent))
    assert after == before


# --- workers: a receipt opens its own thread and nothing else -------------------------------


def test_a_receipt_shows_its_own_thread_and_not_another_reports(
    module_app: Flask, world: World
) -> None:
    browser = browser_of("worker", module_app, world)
    page = browser.post("/en/followup", {"receipt": world.receipt}).get_data(as_text=True)
    assert world.own_reply in page
    assert world.other_reply not in page


def test_the_worker_cookie_alone_opens_no_thread(module_app: Flask, world: World) -> None:
    browser = browser_of("worker", module_app, world)
    for response in (browser.get("/en/followup"), browser.post("/en/followup", {})):
        page = response.get_data(as_text=True)
        assert world.own_reply not in page and world.other_reply not in page


def messages_of(db: Database, report_id: str) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(ReportMessage).where(
            ReportMessage.report_id == uuid.UUID(report_id))) or 0


def test_adding_with_a_receipt_writes_to_that_report_only(
    module_app: Flask, world: World
) -> None:
    browser = browser_of("worker", module_app, world)
    db: Database = module_app.extensions["intake.db"]
    own, other = messages_of(db, world.worker_report), messages_of(db, world.values["report_id"])
    browser.post("/en/followup", {"receipt": world.receipt})  # the thread, with its form
    response = browser.post("/en/followup", {"receipt": world.receipt, "action": "add",
                                             "message": "The manager kept our passports."})
    assert response.status_code == 200
    assert messages_of(db, world.worker_report) == own + 1
    assert messages_of(db, world.values["report_id"]) == other


# --- every route x every role (last: the owners' cells change the world) --------------------


@pytest.mark.parametrize("role", ROLES)
def test_matrix(role: str, module_app: Flask, world: World) -> None:
    browser = browser_of(role, module_app, world)
    db: Database = module_app.extensions["intake.db"]
    refused, rest = cells_of(role)
    token = world.tokens.get(role)
    before = snapshot(db)
    wrong = run_cells(browser, refused, world.values, token,
                      lambda key: MATRIX[key].expect[role])
    assert changed(before, snapshot(db)) == [], f"a refusal to {role} changed something"
    wrong += run_cells(browser, rest, world.values, token, lambda key: MATRIX[key].expect[role])
    assert wrong == [], f"as {role}"
