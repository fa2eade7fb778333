"""A new first password for an invited person whose first one was lost.

The page that shows a first password is the only place it exists: the account's key is
wrapped under it. If that page never arrived (a dropped connection, a closed tab), sending
the invitation again only says "already invited". Before the person signs in, a member can
make new keys and a new first password; the old one then opens nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crypto.errors import CryptoError
from crypto.hierarchy import unwrap_account_key
from intake.accounts.models import Account, Membership, MembershipApproval, MembershipStatus
from intake.audit.models import AuditEvent
from intake.db import Database
from tests.monitor.conftest import Browser, DeskWorld, Member
from tests.monitor.test_vetting import PASSWORD_SHOWN, approve, invite, status_of

EMAIL = "new@desk-a.example"
BUTTON = "New first password</button>"


def _account(db: Database, email: str = EMAIL) -> Account:
    with db.transaction() as session:
        account = session.scalars(select(Account).where(Account.email == email)).one()
        session.expunge(account)
        return account


def _new_password(browser: Browser, desks: DeskWorld, membership_id: int):  # type: ignore[no-untyped-def]
    browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    return browser.post(f"/monitor/d/{desks.a.desk.id}/members/{membership_id}/password")


def _approvals(db: Database, membership_id: int) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(MembershipApproval).where(
            MembershipApproval.membership_id == membership_id)) or 0


def test_a_lost_first_password_is_replaced_and_only_the_new_one_signs_in(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    membership_id, lost = invite(browser, desks, EMAIL)
    third = Browser(browser.client.application.test_client(), db)
    third.login(desks.amir)
    approve(third, desks, membership_id)
    assert _approvals(db, membership_id) == 1
    before = _account(db)
    assert BUTTON in browser.get(f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)

    page = _new_password(browser, desks, membership_id)
    assert page.status_code == 200
    shown = PASSWORD_SHOWN.search(page.get_data(as_text=True))
    assert shown and shown.group(1) != lost
    after = _account(db)
    assert after.public_key != before.public_key
    assert after.totp_secret_sealed != before.totp_secret_sealed
    assert after.session_epoch == before.session_epoch + 1
    unwrap_account_key(after.wrapped_private_key, shown.group(1))
    with pytest.raises(CryptoError):
        unwrap_account_key(after.wrapped_private_key, lost)
    # The approvals were of the invitation whose password was lost: two members again.
    assert _approvals(db, membership_id) == 0
    assert status_of(db, membership_id) is MembershipStatus.PENDING

    person = Member(after.id, EMAIL, "", lost)
    refused = other_browser.login(person, code="")
    assert refused.status_code != 302
    welcomed = other_browser.login(person, code="", password=shown.group(1))
    assert welcomed.headers["Location"].endswith("/monitor/enrol")
    with db.transaction() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "member.new_password")).one()
        assert (event.actor_id, event.object_id) == (desks.alice.account_id, str(after.id))


def test_no_new_password_once_the_person_has_enrolled(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    membership_id, _ = invite(browser, desks, EMAIL)
    with db.transaction() as session:
        session.scalars(select(Account).where(Account.email == EMAIL)).one().totp_enrolled = True
    before = _account(db)
    assert BUTTON not in browser.get(
        f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)
    answer = _new_password(browser, desks, membership_id)
    assert answer.status_code == 303
    told = browser.get(f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)
    assert "This person has signed in already" in told
    assert _account(db).wrapped_private_key == before.wrapped_private_key


def test_no_new_keys_while_another_desks_key_is_wrapped_to_the_person(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Bella is a member of desk B (its key is wrapped to her account); invited to desk A
    before ever enrolling, new keys would lock her out of desk B."""
    with db.transaction() as session:
        session.get_one(Account, desks.bella.account_id).totp_enrolled = False
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/members")
    assert browser.post(f"/monitor/d/{desks.a.desk.id}/members/invite",
                        {"email": desks.bella.email, "display_name": "Bella"}).status_code == 200
    with db.transaction() as session:
        membership_id = session.scalars(select(Membership.id).where(
            Membership.account_id == desks.bella.account_id,
            Membership.desk_id == desks.a.desk.id)).one()
    before = _account(db, desks.bella.email)
    assert _new_password(browser, desks, membership_id).status_code == 303
    told = browser.get(f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)
    assert "This person is a member of another desk" in told
    assert _account(db, desks.bella.email).public_key == before.public_key


def test_no_new_password_for_an_active_member(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        amir = session.get_one(Account, desks.amir.account_id)
        amir.totp_enrolled = False  # even so: an active member holds the desk key
        membership_id = session.scalars(select(Membership.id).where(
            Membership.account_id == amir.id)).one()
    before = _account(db, desks.amir.email)
    browser.login(desks.alice)
    assert _new_password(browser, desks, membership_id).status_code == 303
    told = browser.get(f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)
    assert "This person is not waiting for approval" in told
    assert _account(db, desks.amir.email).public_key == before.public_key
