"""Two-person vetting, removal that ends access at once, and keys that a copy cannot use."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select

from crypto.envelope import open_sealed
from crypto.errors import CryptoError
from crypto.hierarchy import unwrap_account_key, unwrap_desk_key
from intake.accounts.guard import KEY_COOKIE
from intake.accounts.models import (
    Account,
    AccountStatus,
    Membership,
    MembershipApproval,
    MembershipStatus,
)
from intake.accounts.service import desk_context
from intake.audit.models import AuditEvent
from intake.db import Database
from intake.reports.models import Report
from intake.reports.service import body_context
from tests.monitor.conftest import Browser, DeskWorld, Member, submit
from tests.races import at_once

PASSWORD_SHOWN = re.compile(r'<code class="secret">([a-z-]+)</code>')


def invite(browser: Browser, desks: DeskWorld, email: str) -> tuple[int, str]:
    browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    page = browser.post(f"/monitor/d/{desks.a.desk.id}/members/invite",
                        {"email": email, "display_name": "Newcomer"})
    assert page.status_code == 200
    password = PASSWORD_SHOWN.search(page.get_data(as_text=True))
    assert password
    with browser.db.transaction() as session:
        membership = session.scalar(select(Membership).join(
            Account, Account.id == Membership.account_id).where(Account.email == email))
        assert membership is not None
        return membership.id, password.group(1)


def approve(browser: Browser, desks: DeskWorld, membership_id: int) -> None:
    browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    response = browser.post(
        f"/monitor/d/{desks.a.desk.id}/members/{membership_id}/approve")
    assert response.status_code == 303


def status_of(db: Database, membership_id: int) -> MembershipStatus:
    with db.transaction() as session:
        return session.get_one(Membership, membership_id).status


def test_one_approval_is_not_enough_and_the_second_makes_a_member(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    membership_id, _ = invite(browser, desks, "new@desk-a.example")
    approve(browser, desks, membership_id)
    assert status_of(db, membership_id) is MembershipStatus.PENDING
    again = browser.post(f"/monitor/d/{desks.a.desk.id}/members/{membership_id}/approve")
    assert again.status_code == 303  # the same member twice does not count twice
    assert status_of(db, membership_id) is MembershipStatus.PENDING
    other_browser.login(desks.amir)
    approve(other_browser, desks, membership_id)
    assert status_of(db, membership_id) is MembershipStatus.ACTIVE


def test_pending_member_sees_nothing_of_the_desk(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    _membership_id, password = invite(browser, desks, "new@desk-a.example")
    report_id, _ = submit(db, desks.factory_a, "wages stolen")
    with db.transaction() as session:
        account = session.scalar(select(Account).where(Account.email == "new@desk-a.example"))
        assert account is not None
        secret_missing = account.totp_enrolled is False
    assert secret_missing
    response = other_browser.login(Member(account.id, "new@desk-a.example", "", password),
                                   code="")
    assert response.headers["Location"].endswith("/monitor/enrol")
    for path in (f"/monitor/d/{desks.a.desk.id}/", f"/monitor/d/{desks.a.desk.id}/reports/"
                 f"{report_id}", f"/monitor/d/{desks.a.desk.id}/members"):
        assert other_browser.get(path).status_code in (302, 404)


def test_removed_member_loses_the_wrap_and_the_open_session_at_once(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    other_browser.login(desks.amir)
    assert other_browser.get(f"/monitor/d/{desks.a.desk.id}/").status_code == 200
    browser.login(desks.alice)
    with db.transaction() as session:
        membership_id = session.scalar(select(Membership.id).where(
            Membership.account_id == desks.amir.account_id))
    browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    removed = browser.post(f"/monitor/d/{desks.a.desk.id}/members/{membership_id}/remove")
    assert removed.status_code == 303
    assert other_browser.get(f"/monitor/d/{desks.a.desk.id}/").status_code == 302
    with db.transaction() as session:
        assert session.get_one(Membership, membership_id).wrapped_desk_key is None


def test_suspended_account_session_dies(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    assert browser.get(f"/monitor/d/{desks.a.desk.id}/").status_code == 200
    with db.transaction() as session:
        session.get_one(Account, desks.alice.account_id).status = AccountStatus.SUSPENDED
    assert browser.get(f"/monitor/d/{desks.a.desk.id}/").status_code == 302


def test_database_copy_and_app_environment_cannot_open_a_report_without_a_password(
    desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "they took our passports")
    with db.transaction() as session:
        report = session.get_one(Report, uuid.UUID(report_id))
        assert report.body_sealed is not None
        accounts = list(session.scalars(select(Account.wrapped_private_key)))
        alice_key = session.get_one(Account, desks.alice.account_id).wrapped_private_key
        alice_wrap = session.scalar(select(Membership.wrapped_desk_key).where(
            Membership.account_id == desks.alice.account_id))
        blob, rid = report.body_sealed, report.id
    for guess in ("", "password", "correct horse", "admin"):
        for wrapped in accounts:
            with pytest.raises(CryptoError):
                unwrap_account_key(wrapped, guess)
    # And with the right password, the same copy opens it: the password is what was missing.
    key = unwrap_account_key(alice_key, desks.alice.password)
    assert alice_wrap is not None
    desk_key = unwrap_desk_key(alice_wrap, key, desk_id=desk_context(desks.a.desk.id))
    assert b"passports" in open_sealed(blob, desk_key, context=body_context(rid))


def test_session_store_alone_cannot_open_the_desk_key(
    browser: Browser, desks: DeskWorld
) -> None:
    from crypto.session import new_session_key, open_session_keys

    browser.login(desks.alice)
    with browser.client.session_transaction() as session:
        state = dict(session["monitor"])
    with pytest.raises(CryptoError):
        open_session_keys(state["keys"], new_session_key(), session_id=state["sid"])
    cookie = browser.client.get_cookie(KEY_COOKIE)
    assert cookie is not None and cookie.value not in repr(state)


def test_member_approved_during_a_session_is_told_to_sign_in_again(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """The new member's session was unlocked before they had the desk key: a clear 403."""
    browser.login(desks.alice)
    membership_id, password = invite(browser, desks, "late@desk-a.example")
    with db.transaction() as session:
        account = session.scalar(select(Account).where(Account.email == "late@desk-a.example"))
        assert account is not None
        account.totp_enrolled = True
        newcomer = Member(account.id, account.email, "", password)
    from intake.accounts.service import open_totp_secret

    with db.transaction() as session:
        newcomer.totp_secret = open_totp_secret(session.get_one(Account, newcomer.account_id),
                                                secret_key=browser.client.application
                                                .extensions["intake.settings"].secret_key)
    assert other_browser.login(newcomer).status_code == 302
    approve(browser, desks, membership_id)
    third = Browser(browser.client.application.test_client(), db)
    third.login(desks.amir)
    approve(third, desks, membership_id)
    page = other_browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    assert page.status_code == 200  # listed pages need no key
    report_id, _ = submit(db, desks.factory_a, "words")
    locked = other_browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}")
    assert locked.status_code == 403 and "sign in again" in locked.get_data(as_text=True)


def test_desk_sets_its_k_and_batch_hour_within_bounds(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    from intake.accounts.models import Desk

    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}"
    browser.get(path + "/members")
    assert browser.post(path + "/settings", {"k_threshold": "5",
                                             "alert_batch_hour": "9"}).status_code == 303
    for bad in ({"k_threshold": "1", "alert_batch_hour": "9"},
                {"k_threshold": "5", "alert_batch_hour": "24"},
                {"k_threshold": "٣", "alert_batch_hour": "9"}):
        browser.get(path + "/members")
        assert browser.post(path + "/settings", bad).status_code == 303
    with db.transaction() as session:
        desk = session.get_one(Desk, desks.a.desk.id)
        assert (desk.k_threshold, desk.alert_batch_hour) == (5, 9)


@pytest.mark.parametrize("email", [
    # "İ" lower-cases to two characters: 215 typed became 415 stored (PostgreSQL refused
    # the row with a 500; SQLite kept it)
    "İ" * 200 + "@desk-a.example",
    # the form used to cut the address to 254 characters and invite whoever that was
    "x" * 250 + "@desk-a.example",
])
def test_invite_refuses_an_address_too_long_and_invites_nobody(
    browser: Browser, desks: DeskWorld, db: Database, email: str
) -> None:
    browser.login(desks.alice)
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Account))
    browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    response = browser.post(f"/monitor/d/{desks.a.desk.id}/members/invite",
                            {"email": email, "display_name": "Newcomer"})
    assert response.status_code == 303
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)
    assert "An e-mail address can have at most 254 characters." in page
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == before


@pytest.mark.parametrize("action", ["approve", "remove"])
def test_a_membership_id_beyond_the_id_column_is_not_found(
    browser: Browser, desks: DeskWorld, db: Database, action: str
) -> None:
    """Ids are 32-bit: PostgreSQL refused to compare 2**31 with one (a 500)."""
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    with db.transaction() as session:
        before = [(m.id, m.status) for m in session.scalars(select(Membership))]
    response = browser.post(f"/monitor/d/{desks.a.desk.id}/members/{2**31}/{action}")
    assert response.status_code == 404
    with db.transaction() as session:
        assert [(m.id, m.status) for m in session.scalars(select(Membership))] == before


def _members_page(browser: Browser, desks: DeskWorld) -> str:
    return browser.get(f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)


def test_one_member_approving_twice_at_the_same_moment_counts_once(
    app: Flask, browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """A double click on Approve: both requests checked "approved already?" before either
    wrote (tests.races lines them up); the second is told, not a 500."""
    browser.login(desks.alice)
    membership_id, _ = invite(browser, desks, "new@desk-a.example")
    again = Browser(app.test_client(), db)
    again.login(desks.alice)
    url = f"/monitor/d/{desks.a.desk.id}/members/{membership_id}/approve"
    _members_page(browser, desks), _members_page(again, desks)
    answers = at_once(db.engine, lambda: browser.post(url), lambda: again.post(url))
    assert [a.status_code for a in answers] == [303, 303]
    pages = _members_page(browser, desks) + _members_page(again, desks)
    assert "One more member must approve" in pages
    assert "You have approved this person already" in pages
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(MembershipApproval)) == 1
    assert status_of(db, membership_id) is MembershipStatus.PENDING


def test_a_removal_at_the_moment_of_the_second_approval_is_not_undone(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Amir removes a pending newcomer while Alice gives the second approval: whichever
    comes first, the newcomer ends removed and holds no wrap of the desk key."""
    browser.login(desks.alice)
    membership_id, _ = invite(browser, desks, "new@desk-a.example")
    other_browser.login(desks.amir)
    approve(other_browser, desks, membership_id)
    members = f"/monitor/d/{desks.a.desk.id}/members/{membership_id}"
    _members_page(browser, desks), _members_page(other_browser, desks)
    answers = at_once(db.engine, lambda: browser.post(members + "/approve"),
                      lambda: other_browser.post(members + "/remove"))
    assert [a.status_code for a in answers] == [303, 303]
    with db.transaction() as session:
        membership = session.get_one(Membership, membership_id)
        assert membership.status is MembershipStatus.REMOVED
        assert membership.wrapped_desk_key is None


@pytest.mark.parametrize("who", ["newcomer", "bella"])
def test_two_members_inviting_the_same_person_at_once_make_one_invitation(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database, who: str
) -> None:
    """Alice and Amir invite the same person together: a newcomer (no account yet) or Bella,
    a monitor of desk B. Both found no invitation before either saved (tests.races lines
    them up); one account, one pending invitation, and the second is told."""
    email = "new@desk-a.example" if who == "newcomer" else desks.bella.email
    browser.login(desks.alice)
    other_browser.login(desks.amir)
    _members_page(browser, desks), _members_page(other_browser, desks)
    url = f"/monitor/d/{desks.a.desk.id}/members/invite"
    form = {"email": email, "display_name": "Invited"}
    answers = at_once(db.engine, lambda: browser.post(url, form),
                      lambda: other_browser.post(url, form))
    assert sorted(a.status_code for a in answers) == [200, 303]
    told = _members_page(browser, desks) + _members_page(other_browser, desks)
    assert "That person is already a member or invited" in told
    with db.transaction() as session:
        account = session.scalars(select(Account).where(Account.email == email)).one()
        assert session.scalars(select(Membership).where(
            Membership.account_id == account.id,
            Membership.desk_id == desks.a.desk.id)).one().status is MembershipStatus.PENDING


def test_an_invite_sent_twice_makes_one_invitation_and_the_second_send_is_told(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """A double click on "Invite", or a resend after a timeout (the same form, the same
    token): one account, one pending invitation, one audit event; the second answer shows
    no new first password and says the person is invited already."""
    email = "new@desk-a.example"
    browser.login(desks.alice)
    _members_page(browser, desks)
    form = {"csrf_token": browser.token, "email": email, "display_name": "Newcomer"}
    answers = [browser.client.post(f"/monitor/d/{desks.a.desk.id}/members/invite", data=form,
                                   environ_base=browser.environ) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 303]
    assert PASSWORD_SHOWN.search(answers[0].get_data(as_text=True))
    assert "That person is already a member or invited" in _members_page(browser, desks)
    with db.transaction() as session:
        account = session.scalars(select(Account).where(Account.email == email)).one()
        assert session.scalars(select(Membership).where(
            Membership.account_id == account.id)).one().status is MembershipStatus.PENDING
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "member.invite")) == 1


@pytest.mark.parametrize("who", ["newcomer", "bella"])
def test_an_invite_sent_twice_at_the_same_moment_makes_one_invitation(
    app: Flask, browser: Browser, desks: DeskWorld, db: Database, who: str
) -> None:
    """A double click by one member: both sends found no invitation before either saved
    (tests.races lines them up); one invitation, one first password shown, no 500."""
    email = "new@desk-a.example" if who == "newcomer" else desks.bella.email
    again = Browser(app.test_client(), db)
    for each in (browser, again):
        each.login(desks.alice)
        _members_page(each, desks)
    url = f"/monitor/d/{desks.a.desk.id}/members/invite"
    form = {"email": email, "display_name": "Invited"}
    answers = at_once(db.engine, lambda: browser.post(url, form), lambda: again.post(url, form))
    assert sorted(a.status_code for a in answers) == [200, 303]
    shown = [PASSWORD_SHOWN.search(a.get_data(as_text=True)) for a in answers]
    assert sum(p is not None for p in shown) == (1 if who == "newcomer" else 0)
    with db.transaction() as session:
        account = session.scalars(select(Account).where(Account.email == email)).one()
        assert session.scalars(select(Membership).where(
            Membership.account_id == account.id,
            Membership.desk_id == desks.a.desk.id)).one().status is MembershipStatus.PENDING
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "member.invite")) == 1
