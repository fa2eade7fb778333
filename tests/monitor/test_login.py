"""Signing in: password + TOTP, enrolment, throttling, idle timeout, logout, password change."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from flask import Flask

from crypto.errors import WrongPassword
from crypto.hierarchy import unwrap_account_key
from intake.accounts.guard import KEY_COOKIE
from intake.accounts.models import Account
from intake.audit.models import AuditEvent
from intake.db import Database
from tests.monitor.conftest import Browser, DeskWorld, code_for


def test_member_signs_in_with_password_and_code_and_sees_the_queue(
    browser: Browser, desks: DeskWorld
) -> None:
    response = browser.login(desks.alice)
    assert response.status_code == 302
    page = browser.get(response.headers["Location"], follow_redirects=True)
    assert page.status_code == 200
    assert "Reports" in page.get_data(as_text=True)


def test_wrong_password_wrong_code_and_unknown_address_get_the_same_answer(
    browser: Browser, desks: DeskWorld
) -> None:
    answers = [
        browser.login(desks.alice, password="wrong password!").get_data(as_text=True),
        browser.login(desks.alice, code="000000").get_data(as_text=True),
    ]
    browser.get("/monitor/login")
    unknown = browser.post("/monitor/login", {"email": "nobody@x.example", "password": "x",
                                              "code": "123456"})
    assert unknown.status_code == 401
    assert all("Wrong e-mail address, password or code." in a for a in answers)
    assert "Wrong e-mail address, password or code." in unknown.get_data(as_text=True)


def test_a_code_cannot_be_used_twice(browser: Browser, other_browser: Browser,
                                     desks: DeskWorld, db: Database) -> None:
    code = code_for(db, desks.alice)
    assert browser.login(desks.alice, code=code).status_code == 302
    assert other_browser.login(desks.alice, code=code).status_code == 401


def test_account_locks_after_repeated_failures(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    for _ in range(5):
        browser.login(desks.alice, password="not the password")
    locked = browser.login(desks.alice)  # right password, right code, but locked now
    assert locked.status_code == 401
    assert "locked" in locked.get_data(as_text=True)
    with db.transaction() as session:
        assert session.get_one(Account, desks.alice.account_id).locked_until is not None


def test_flood_of_sign_ins_from_one_address_is_throttled_but_another_address_is_served(
    app: Flask, browser: Browser, other_browser: Browser, desks: DeskWorld
) -> None:
    app.extensions["intake.limiter"].enabled = True
    statuses = [browser.login(desks.bella, password="guess").status_code for _ in range(11)]
    assert statuses[-1] == 429
    assert other_browser.login(desks.alice).status_code == 302


def test_the_session_store_holds_keys_only_sealed_to_the_cookie(
    browser: Browser, desks: DeskWorld
) -> None:
    browser.login(desks.alice)
    assert browser.client.get_cookie(KEY_COOKIE) is not None
    with browser.client.session_transaction() as session:
        state = session["monitor"]
    assert isinstance(state["keys"], bytes) and state["keys"][0] == 0x31
    # Without the cookie's key, the stored session is useless: sent without it, we are out.
    browser.client.delete_cookie(KEY_COOKIE)
    assert browser.get("/monitor/").status_code == 302


def test_idle_session_expires_after_thirty_minutes(browser: Browser, desks: DeskWorld) -> None:
    browser.login(desks.alice)
    with browser.client.session_transaction() as session:
        state = session["monitor"]
        state["seen"] = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)).timestamp()
        session["monitor"] = state
    response = browser.get("/monitor/")
    assert response.status_code == 302 and "/monitor/login" in response.headers["Location"]


def test_logout_forgets_the_session_and_the_key_cookie(browser: Browser, desks: DeskWorld) -> None:
    browser.login(desks.alice)
    browser.get("/monitor/", follow_redirects=True)
    response = browser.post("/monitor/logout")
    assert response.status_code == 302
    assert browser.client.get_cookie(KEY_COOKIE) is None
    with browser.client.session_transaction() as session:
        assert "monitor" not in session
    assert browser.get("/monitor/").status_code == 302


def test_first_sign_in_enrols_totp_with_a_server_drawn_qr_code(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        session.get_one(Account, desks.amir.account_id).totp_enrolled = False
    response = browser.login(desks.amir, code="")
    assert response.headers["Location"].endswith("/monitor/enrol")
    page = browser.get("/monitor/enrol").get_data(as_text=True)
    assert "<svg" in page and "<path" in page
    assert browser.get("/monitor/").status_code == 302  # not signed in until the code
    bad = browser.post("/monitor/enrol", {"code": "000000"})
    assert bad.status_code == 400
    good = browser.post("/monitor/enrol", {"code": pyotp.TOTP(desks.amir.totp_secret).now()})
    assert good.status_code == 302
    assert browser.get("/monitor/", follow_redirects=True).status_code == 200
    with db.transaction() as session:
        assert session.get_one(Account, desks.amir.account_id).totp_enrolled


def test_password_change_rewraps_the_key_and_ends_other_sessions(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    other_browser.login(desks.alice)
    browser.get("/monitor/password")
    changed = browser.post("/monitor/password", {
        "old": desks.alice.password, "new": "a much better passphrase",
        "repeat": "a much better passphrase"})
    assert changed.status_code == 302
    assert browser.get("/monitor/", follow_redirects=True).status_code == 200
    assert other_browser.get("/monitor/").status_code == 302
    with db.transaction() as session:
        wrapped = session.get_one(Account, desks.alice.account_id).wrapped_private_key
    assert unwrap_account_key(wrapped, "a much better passphrase")
    with pytest.raises(WrongPassword):
        unwrap_account_key(wrapped, desks.alice.password)


def test_sign_in_is_audited(browser: Browser, desks: DeskWorld, db: Database) -> None:
    browser.login(desks.alice)
    with db.transaction() as session:
        events = [(e.action, e.desk_id) for e in session.query(AuditEvent).filter_by(
            actor_id=desks.alice.account_id)]
    assert ("login", None) in events and ("desk.unlock", desks.a.desk.id) in events
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/audit").get_data(as_text=True)
    assert "desk.unlock" in page


def test_stale_form_gets_a_clear_message(browser: Browser, desks: DeskWorld) -> None:
    browser.get("/monitor/login")
    browser.token = "stale"
    response = browser.post("/monitor/login", {"email": desks.alice.email})
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
