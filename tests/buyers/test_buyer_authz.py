"""Authorization over every buyer route and every desk-side remedy route: a buyer sees only
alerts addressed to their organisation and delivered; everyone else gets 404 (or the sign-in
page) and nothing is saved. A route without a row fails ``test_every_route_has_a_row``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from intake.alerts.models import Alert, BuyerWebhook, ThreadMessage
from intake.alerts.service import create_webhook
from intake.audit.models import AuditEvent
from intake.db import Database
from intake.remedy import service as remedy
from intake.remedy.models import ActionOwner, BuyerAction, RemedyAction
from tests.buyers.conftest import BuyerWorld, add_alert, approved_case
from tests.monitor.conftest import Browser

ROLES = ("anonymous", "buyer_a", "buyer_b", "monitor_a", "monitor_b")
OWN = {"anonymous": "login", "buyer_a": "ok", "buyer_b": 404, "monitor_a": 404,
       "monitor_b": 404}
ANY_BUYER = {**OWN, "buyer_b": "ok"}
DESK = {"anonymous": "login", "buyer_a": 404, "buyer_b": 404, "monitor_a": "ok",
        "monitor_b": 404}

# endpoint -> (method, path, form, expectations); {alert} is Westhaven's delivered alert.
MATRIX: dict[str, tuple[str, str, dict[str, str], dict[str, Any]]] = {
    "buyer.home": ("GET", "/buyer/", {}, ANY_BUYER),
    "buyer.alert": ("GET", "/buyer/alerts/{alert}", {}, OWN),
    "buyer.acknowledge": ("POST", "/buyer/alerts/{alert}/acknowledge", {}, OWN),
    "buyer.record_action": ("POST", "/buyer/alerts/{alert}/actions",
                            {"kind": "joint_letter", "description": "Wrote a letter",
                             "remedy_action": "{action}"}, OWN),
    "buyer.post_message": ("POST", "/buyer/alerts/{alert}/thread", {"body": "Hello"}, OWN),
    "buyer.webhooks": ("GET", "/buyer/webhooks", {}, ANY_BUYER),
    "buyer.add_webhook": ("POST", "/buyer/webhooks", {"url": "http://127.0.0.1:9/x"},
                          ANY_BUYER),
    "buyer.disable_webhook": ("POST", "/buyer/webhooks/{hook}/disable", {}, OWN),
    "remedy.add_action": ("POST", "/monitor/d/{desk}/cases/{case}/remedy/actions",
                          {"description": "Pay", "owner": "desk"}, DESK),
    "remedy.action_status": ("POST",
                             "/monitor/d/{desk}/cases/{case}/remedy/actions/{action}/status",
                             {"status": "in_progress"}, DESK),
    "remedy.mark_remedied": ("POST", "/monitor/d/{desk}/cases/{case}/remedy/remedied", {},
                             DESK),
    "remedy.thread_post": ("POST", "/monitor/d/{desk}/cases/{case}/thread", {"body": "Hi"},
                           DESK),
    "remedy.thread_visibility": ("POST",
                                 "/monitor/d/{desk}/cases/{case}/thread/{message}/visibility",
                                 {"hidden": "1"}, DESK),
}


@dataclass
class Objects:
    desk: int
    case: str
    alert: str
    waiting: str  # Westhaven's alert of a second case, not delivered yet
    action: str
    message: str
    hook: int


@pytest.fixture
def objects(browser: Browser, buyers: BuyerWorld, db: Database, settings: Any) -> Objects:
    desks = buyers.desks
    case_id, _ = approved_case(browser, desks, db)
    second, _ = approved_case(browser, desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    waiting = add_alert(db, second, buyers.westhaven, delivered=None)
    with db.transaction() as session:
        action = remedy.add_action(session, desk_id=desks.a.desk.id,
                                   case_id=uuid.UUID(case_id), description="Pay back wages",
                                   owner=ActionOwner.SUPPLIER, buyer_org_id=None, due_on=None,
                                   evidence="", actor_id=desks.alice.account_id)
        message = remedy.desk_post(session, desk_id=desks.a.desk.id,
                                   case_id=uuid.UUID(case_id), body="Welcome",
                                   actor_id=desks.alice.account_id)
        hook, _ = create_webhook(session, buyer_org_id=buyers.westhaven,
                                 url="http://127.0.0.1:9/a", secret_key=settings.secret_key)
        return Objects(desks.a.desk.id, case_id, alert, waiting, str(action.id),
                       str(message.id), hook.id)


def sign_in(role: str, browser: Browser, buyers: BuyerWorld) -> None:
    member = {"buyer_a": buyers.buyer_a, "buyer_b": buyers.buyer_b,
              "monitor_a": buyers.desks.amir, "monitor_b": buyers.desks.bella}.get(role)
    if member is None:
        browser.get("/monitor/login")  # a valid CSRF token: the refusal is not the form's
    else:
        assert browser.login(member).status_code == 302
        browser.get("/monitor/password")  # a page with a form: a fresh CSRF token


def check(expected: Any, status: int, location: str, cell: str) -> None:
    if expected == "ok":
        assert status < 500 and status not in (401, 403, 404), cell
        assert "/monitor/login" not in location, cell
    elif expected == "login":
        assert status == 302 and "/monitor/login" in location, cell
    else:
        assert status == expected, cell


def test_every_route_has_a_row(app: Flask) -> None:
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(("buyer.", "remedy."))}
    assert routes == set(MATRIX)


def test_every_buyer_route_is_in_the_shared_matrix(app: Flask) -> None:
    from tests.monitor.test_authz import MATRIX as SHARED

    assert set(MATRIX) <= set(SHARED)


def state(db: Database) -> tuple[int, ...]:
    with db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(BuyerAction)) or 0,
            session.scalar(select(func.count()).select_from(ThreadMessage)) or 0,
            session.scalar(select(func.count()).select_from(RemedyAction)) or 0,
            session.scalar(select(func.count()).where(Alert.acknowledged_at.is_not(None))) or 0,
            session.scalar(select(func.count()).where(BuyerWebhook.enabled.is_(False))) or 0,
            session.scalar(select(func.count()).where(ThreadMessage.hidden.is_(True))) or 0,
        )


@pytest.mark.parametrize("role", ROLES)
def test_matrix(role: str, browser: Browser, other_browser: Browser, buyers: BuyerWorld,
                objects: Objects, db: Database) -> None:
    sign_in(role, other_browser, buyers)
    values = {k: str(v) for k, v in vars(objects).items()}
    before = state(db)
    for endpoint, (method, template, data, expectations) in MATRIX.items():
        path = template.format(**values)
        form = {k: v.format(**values) for k, v in data.items()}
        response = (other_browser.get(path) if method == "GET"
                    else other_browser.post(path, form))
        check(expectations[role], response.status_code, response.headers.get("Location", ""),
              f"{endpoint} as {role}")
    if role in ("anonymous", "buyer_b", "monitor_b"):
        assert state(db) == before, "a refused request changed something"


@pytest.mark.parametrize("path", ["/buyer/alerts/{waiting}", "/buyer/alerts/{case}",
                                  "/buyer/alerts/not-a-uuid", "/buyer/alerts/{action}",
                                  "/buyer/alerts/{message}"])
def test_anything_but_a_delivered_alert_of_ones_own_is_404(
    path: str, other_browser: Browser, buyers: BuyerWorld, objects: Objects
) -> None:
    sign_in("buyer_a", other_browser, buyers)
    values = {k: str(v) for k, v in vars(objects).items()}
    assert other_browser.get(path.format(**values)).status_code == 404
    for suffix in ("/acknowledge", "/thread", "/actions"):
        response = other_browser.post(path.format(**values) + suffix,
                                      {"body": "x", "kind": "other", "description": "x"})
        assert response.status_code == 404, suffix


def test_refusals_leave_no_audit_trace_of_a_change(
    other_browser: Browser, buyers: BuyerWorld, objects: Objects, db: Database
) -> None:
    sign_in("buyer_b", other_browser, buyers)
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    other_browser.post(f"/buyer/alerts/{objects.alert}/acknowledge")
    other_browser.post(f"/buyer/webhooks/{objects.hook}/disable")
    with db.transaction() as session:
        after = session.scalar(select(func.count()).select_from(AuditEvent))
    assert after == before
