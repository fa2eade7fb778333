"""Authorization matrix: every monitor route and API endpoint x every role, over objects of
desk A. The expectation for each cell is written in one table; a route without a row fails
``test_every_desk_route_has_a_row`` so no new route escapes the matrix."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from crypto.hierarchy import TEST_FAST
from intake.accounts.members import invite
from intake.accounts.models import Account, Membership, Role
from intake.api.tokens import issue
from intake.cases.service import create_case
from intake.db import Database
from intake.reports.models import Severity
from intake.supplychain.models import BuyerOrg
from tests.monitor.conftest import PASSWORD, Browser, DeskWorld, Member, make_member, submit

ROLES = ("anonymous", "pending", "buyer", "member_b", "member_a")
# What each role gets. "ok": not 401/403/404, and below 500. "login": redirect to sign-in.
DESK_PAGE = {"anonymous": "login", "pending": 404, "buyer": 404, "member_b": 404,
             "member_a": "ok"}
PUBLIC_PAGE = dict.fromkeys(ROLES, "ok")
SIGNED_IN_PAGE = {**PUBLIC_PAGE, "anonymous": "login"}
MONITOR_PAGE = {**SIGNED_IN_PAGE, "buyer": 404}
BUYER_PAGE = {"anonymous": "login", "pending": 404, "buyer": "ok", "member_b": 404,
              "member_a": 404}
API = {"anonymous": 401, "pending": 401, "buyer": 401, "member_b": 404, "member_a": "ok"}
API_LIST = {**API, "member_b": "ok"}
API_PUBLIC = PUBLIC_PAGE

# endpoint -> (method, path, form or JSON, expectations)
MATRIX: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
    "auth.login": ("GET", "/monitor/login", {}, PUBLIC_PAGE),
    # Only a session half-way through its first sign-in may enrol; everyone else is sent to
    # the sign-in page (tested in test_login.py).
    "auth.enrol": ("GET", "/monitor/enrol", {}, dict.fromkeys(ROLES, "login")),
    "auth.logout": ("POST", "/monitor/logout", {}, dict.fromkeys(ROLES, "login")),
    "auth.password": ("GET", "/monitor/password", {}, SIGNED_IN_PAGE),
    "triage.home": ("GET", "/monitor/", {}, MONITOR_PAGE),
    "buyer.home": ("GET", "/buyer/", {}, BUYER_PAGE),
    "triage.queue": ("GET", "/monitor/d/{desk}/", {}, DESK_PAGE),
    "triage.audit": ("GET", "/monitor/d/{desk}/audit", {}, DESK_PAGE),
    "triage.enter": ("GET", "/monitor/d/{desk}/enter", {}, DESK_PAGE),
    "triage.report": ("GET", "/monitor/d/{desk}/reports/{report}", {}, DESK_PAGE),
    "triage.reply": ("POST", "/monitor/d/{desk}/reports/{report}/reply",
                     {"text": "hello", "action": "preview"}, DESK_PAGE),
    "triage.decide": ("POST", "/monitor/d/{desk}/reports/{report}/triage",
                      {"severity": "serious"}, DESK_PAGE),
    "auth.member_list": ("GET", "/monitor/d/{desk}/members", {}, DESK_PAGE),
    "auth.desk_settings": ("POST", "/monitor/d/{desk}/settings",
                           {"k_threshold": "3", "alert_batch_hour": "6"}, DESK_PAGE),
    "auth.member_invite": ("POST", "/monitor/d/{desk}/members/invite",
                           {"email": "x@y.example", "display_name": "X"}, DESK_PAGE),
    "auth.member_approve": ("POST", "/monitor/d/{desk}/members/{membership}/approve", {},
                            DESK_PAGE),
    "auth.member_remove": ("POST", "/monitor/d/{desk}/members/{membership}/remove", {},
                           DESK_PAGE),
    "cases.case_list": ("GET", "/monitor/d/{desk}/cases/", {}, DESK_PAGE),
    "cases.new_case": ("POST", "/monitor/d/{desk}/cases/", {"title": "t"}, DESK_PAGE),
    "cases.case_page": ("GET", "/monitor/d/{desk}/cases/{case}", {}, DESK_PAGE),
    "cases.add_note": ("POST", "/monitor/d/{desk}/cases/{case}/notes", {"text": "n"},
                       DESK_PAGE),
    "cases.link": ("POST", "/monitor/d/{desk}/cases/{case}/reports", {"report_ids": ""},
                   DESK_PAGE),
    "cases.unlink": ("POST", "/monitor/d/{desk}/cases/{case}/reports/{report}/unlink", {},
                     DESK_PAGE),
    "cases.set_status": ("POST", "/monitor/d/{desk}/cases/{case}/status", {"status": "open"},
                         DESK_PAGE),
    "cases.save_summary": ("POST", "/monitor/d/{desk}/cases/{case}/summary", {"text": "s"},
                           DESK_PAGE),
    "cases.review_summary": ("POST", "/monitor/d/{desk}/cases/{case}/summary/review", {},
                             DESK_PAGE),
    "tokens.token_list": ("GET", "/monitor/d/{desk}/tokens", {}, DESK_PAGE),
    "tokens.token_create": ("POST", "/monitor/d/{desk}/tokens", {"name": "n"}, DESK_PAGE),
    "tokens.token_revoke": ("POST", "/monitor/d/{desk}/tokens/{token}/revoke", {}, DESK_PAGE),
    # dashboards
    "dashboards.desk_dashboard": ("GET", "/monitor/d/{desk}/dashboard", {}, DESK_PAGE),
    "dashboards.desk_dashboard_csv": ("GET", "/monitor/d/{desk}/dashboard.csv", {}, DESK_PAGE),
    "dashboards.buyer_dashboard": ("GET", "/buyer/dashboard", {}, BUYER_PAGE),
    "dashboards.buyer_dashboard_csv": ("GET", "/buyer/dashboard.csv", {}, BUYER_PAGE),
    # workers' verdict
    "verdicts.ask": ("POST", "/monitor/d/{desk}/cases/{case}/verdicts/request", {},
                     DESK_PAGE),
    # alerts (desk side)
    "alerts.alert_buyers": ("POST", "/monitor/d/{desk}/cases/{case}/alerts", {}, DESK_PAGE),
    "alerts.add_buyer": ("POST", "/monitor/d/{desk}/cases/{case}/alerts/buyers",
                         {"buyer_org_id": "1"}, DESK_PAGE),
    # buyer portal and remedy (the full matrix with alerts of two buyers: tests/buyers).
    # No alert, action or message exists here, so even their owners get 404.
    "buyer.alert": ("GET", f"/buyer/alerts/{uuid.UUID(int=1)}", {},
                    {**BUYER_PAGE, "buyer": 404}),
    "buyer.acknowledge": ("POST", f"/buyer/alerts/{uuid.UUID(int=1)}/acknowledge", {},
                          {**BUYER_PAGE, "buyer": 404}),
    "buyer.record_action": ("POST", f"/buyer/alerts/{uuid.UUID(int=1)}/actions",
                            {"kind": "other", "description": "d"}, {**BUYER_PAGE, "buyer": 404}),
    "buyer.post_message": ("POST", f"/buyer/alerts/{uuid.UUID(int=1)}/thread", {"body": "b"},
                           {**BUYER_PAGE, "buyer": 404}),
    "buyer.webhooks": ("GET", "/buyer/webhooks", {}, BUYER_PAGE),
    "buyer.add_webhook": ("POST", "/buyer/webhooks", {"url": "http://127.0.0.1:9/x"},
                          BUYER_PAGE),
    "buyer.disable_webhook": ("POST", "/buyer/webhooks/999999/disable", {},
                              {**BUYER_PAGE, "buyer": 404}),
    "remedy.add_action": ("POST", "/monitor/d/{desk}/cases/{case}/remedy/actions",
                          {"description": "Pay", "owner": "desk"}, DESK_PAGE),
    "remedy.action_status": ("POST", "/monitor/d/{desk}/cases/{case}/remedy/actions/"
                             f"{uuid.UUID(int=1)}/status", {"status": "done"},
                             {**DESK_PAGE, "member_a": 404}),
    "remedy.mark_remedied": ("POST", "/monitor/d/{desk}/cases/{case}/remedy/remedied", {},
                             DESK_PAGE),
    "remedy.thread_post": ("POST", "/monitor/d/{desk}/cases/{case}/thread", {"body": "Hi"},
                           DESK_PAGE),
    "remedy.thread_visibility": ("POST", "/monitor/d/{desk}/cases/{case}/thread/"
                                 f"{uuid.UUID(int=1)}/visibility", {"hidden": "1"},
                                 {**DESK_PAGE, "member_a": 404}),
    # platform admin (other roles never see it)
    "admin.import_page": ("GET", "/monitor/admin/import", {}, {**DESK_PAGE, "member_a": 404}),
    "api.openapi_json": ("GET", "/api/v1/openapi.json", {}, API_PUBLIC),
    "api.queue": ("GET", "/api/v1/queue", {}, API_LIST),
    "api.cases": ("GET", "/api/v1/cases", {}, API_LIST),
    "api.case": ("GET", "/api/v1/cases/{case}", {}, API),
    "api.report": ("GET", "/api/v1/reports/{report}", {}, API),
    "api.triage": ("PATCH", "/api/v1/reports/{report}", {"severity": "serious"}, API),
    "api.reply": ("POST", "/api/v1/reports/{report}/replies", {"text": "hello"}, API),
}


def test_every_desk_route_has_a_row(app: Flask) -> None:
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.rule.startswith(("/monitor", "/api/", "/buyer"))}
    assert routes - set(MATRIX) == set(), "add these routes to the authorization matrix"
    assert set(MATRIX) - routes == set(), "the matrix names routes that no longer exist"


@dataclass
class Objects:
    desk: int
    report: str
    membership: int
    case: str
    token: int
    tokens: dict[str, str]


@pytest.fixture
def objects(desks: DeskWorld, db: Database, settings: Any) -> Objects:
    report_id, _ = submit(db, desks.factory_a, "desk A's report")
    with db.transaction() as session:
        case = create_case(session, desk_id=desks.a.desk.id, title="Unpaid wages",
                           category="wages", severity=Severity.SERIOUS,
                           facility_id=desks.factory_a.id, report_ids=[uuid.UUID(report_id)],
                           actor_id=desks.alice.account_id)
        membership = session.scalar(select(Membership.id).where(
            Membership.account_id == desks.amir.account_id))
        alice = session.get_one(Account, desks.alice.account_id)
        bella = session.get_one(Account, desks.bella.account_id)
        token_a = issue(session, account=alice, desk_id=desks.a.desk.id,
                        desk_key=desks.a.key, name="a")
        token_b = issue(session, account=bella, desk_id=desks.b.desk.id,
                        desk_key=desks.b.key, name="b")
        pending = invite(session, desk=desks.a.desk, email="pending@desk-a.example",
                         display_name="Pending", invited_by=alice,
                         secret_key=settings.secret_key, profile=TEST_FAST)
        assert pending.new_account is not None
        pending.new_account.account.totp_enrolled = True
        from crypto.hierarchy import unwrap_account_key, wrap_account_key

        account_key = unwrap_account_key(pending.new_account.account.wrapped_private_key,
                                         pending.new_account.password)
        pending.new_account.account.wrapped_private_key = wrap_account_key(
            account_key, PASSWORD, profile=TEST_FAST)
        desks_pending = Member(pending.new_account.account.id, "pending@desk-a.example",
                               pending.new_account.totp_secret)
        org = BuyerOrg(name="City of Westhaven", contact_email="p@westhaven.example")
        session.add(org)
        session.flush()
        buyer = make_member(session, settings, None, "buyer@westhaven.example", role=Role.BUYER)
        session.get_one(Account, buyer.account_id).buyer_org_id = org.id
        assert membership is not None
        objects = Objects(desks.a.desk.id, report_id, membership, str(case.id),
                          token_a.row.id, {"member_a": token_a.text, "member_b": token_b.text,
                                           "pending": "wvi_0_" + "A" * 43})
    objects.pending = desks_pending  # type: ignore[attr-defined]
    objects.buyer = buyer  # type: ignore[attr-defined]
    return objects


def _signed_in(role: str, browser: Browser, desks: DeskWorld, objects: Objects) -> None:
    member = {"member_a": desks.alice, "member_b": desks.bella,
              "pending": objects.pending,  # type: ignore[attr-defined]
              "buyer": objects.buyer}.get(role)  # type: ignore[attr-defined]
    if member is not None:
        assert browser.login(member).status_code == 302
        browser.get("/monitor/password")  # a page with a form: a fresh CSRF token


def _check(expected: Any, status: int, location: str, cell: str) -> None:
    if expected == "ok":
        assert status < 500 and status not in (401, 403, 404), cell
        assert "/monitor/login" not in location, cell
    elif expected == "login":
        assert status == 302 and "/monitor/login" in location, cell
    else:
        assert status == expected, cell


@pytest.mark.parametrize("role", ROLES)
def test_matrix(role: str, browser: Browser, desks: DeskWorld, objects: Objects) -> None:
    _signed_in(role, browser, desks, objects)
    values = {"desk": objects.desk, "report": objects.report, "membership": objects.membership,
              "case": objects.case, "token": objects.token}
    for endpoint, (method, template, data, expectations) in MATRIX.items():
        if endpoint in ("auth.logout", "auth.member_remove", "tokens.token_revoke"):
            continue  # these end the session or the token: checked last, below
        path = template.format(**values)
        cell = f"{endpoint} as {role}"
        if path.startswith("/api/"):
            headers = ({"Authorization": f"Bearer {objects.tokens[role]}"}
                       if role in objects.tokens else {})
            response = browser.client.open(path, method=method, headers=headers,
                                           json=data if method != "GET" else None)
        elif method == "GET":
            response = browser.get(path)
        else:
            response = browser.post(path, data)
        _check(expectations[role], response.status_code,
               response.headers.get("Location", ""), cell)
    for endpoint in ("tokens.token_revoke", "auth.member_remove", "auth.logout"):
        method, template, data, expectations = MATRIX[endpoint]
        response = browser.post(template.format(**values), data)
        _check(expectations[role], response.status_code, response.headers.get("Location", ""),
               f"{endpoint} as {role}")
