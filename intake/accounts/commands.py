"""``intake desk create|recover`` and ``intake audit verify`` (DESIGN 7)."""

from __future__ import annotations

import click

from intake.cli_support import Text, database, friendly_errors, load_settings

NAME = Text(max_length=200)  # the desks.name and accounts.display_name columns
EMAIL_CHARS = 254  # the accounts.email column


@click.group("desk")
def desk_group() -> None:
    """Create a desk (printing its recovery secret once) or recover access to one."""


@desk_group.command("create")
@click.option("--name", required=True, type=NAME, help="The desk's name (a union or NGO).")
@click.option("--country", default=None, type=Text(max_length=2),
              help="ISO country code the desk works in.")
@click.option("--fallback", is_flag=True, help="Receive reports of workplaces no desk covers.")
@click.option("--member", "members_", multiple=True, metavar="EMAIL=NAME",
              type=Text(max_length=EMAIL_CHARS + 1 + 200),
              help="A first member (repeat; two are needed to vet anyone later).")
@friendly_errors
def desk_create(name: str, country: str | None, fallback: bool, members_: tuple[str, ...]) -> None:
    """Create a desk with fresh keys; print its recovery secret and first members' logins."""
    from sqlalchemy import select

    from intake.accounts.models import Account, AccountStatus, Role
    from intake.accounts.service import add_active_member, create_account, create_desk
    from intake.audit.service import record
    from intake.errors import IntakeError
    from intake.install import ensure_install
    from intake.kdf import argon2_profile

    pairs = _members(members_)
    country = _country(country)
    settings = load_settings()
    profile = argon2_profile(settings)
    printed: list[tuple[str, str | None]] = []
    with database(settings, migrate_embedded=True) as db, db.transaction() as session:
        ensure_install(session, settings)
        created = create_desk(session, name=name, country=country, profile=profile,
                              is_fallback=fallback)
        for email, display in pairs:
            account = session.scalar(select(Account).where(Account.email == email))
            password = None
            if account is None:
                new = create_account(session, email=email, display_name=display,
                                     role=Role.MONITOR, secret_key=settings.secret_key,
                                     profile=profile, status=AccountStatus.ACTIVE)
                account, password = new.account, new.password
            elif account.role is not Role.MONITOR:
                raise IntakeError(f"{email} belongs to an account that is not a monitor")
            add_active_member(session, desk=created.desk, desk_key=created.private_key,
                              account=account)
            printed.append((email, password))
        record(session, "desk.create", actor_id=None, desk_id=created.desk.id,
               detail=f"members={len(pairs)}")
        secret = created.recovery_secret
    click.echo(f"Desk created: {name}")
    click.echo("")
    click.echo("RECOVERY SECRET (shown once: print it, store it offline, never type it into")
    click.echo("e-mail or chat; with it the desk's reports can be opened):")
    click.echo(f"    {secret}")
    click.echo("")
    for email, password in printed:
        shown = password if password else "(existing account: same password as before)"
        click.echo(f"member {email}  first password: {shown}")
    if printed:
        click.echo("Each member sets up an authenticator app at the first sign-in "
                   "(/monitor/login).")
    if len(printed) < 2:
        click.echo("Warning: with fewer than two members, nobody new can be approved.")


def _members(texts: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = [_member(text) for text in texts]
    emails = [email for email, _ in pairs]
    for email in emails:
        if emails.count(email) > 1:
            raise click.BadParameter(f"{email} is given twice", param_hint="'--member'")
    return pairs


def _member(text: str) -> tuple[str, str]:
    email, _, display = text.partition("=")
    email = email.strip().lower()
    display = display.strip() or email.split("@")[0]
    if "@" not in email:
        raise click.BadParameter(f"{text!r} is not EMAIL=NAME", param_hint="'--member'")
    if len(email) > EMAIL_CHARS:  # checked once lower-cased: "İ" becomes two characters
        raise click.BadParameter(f"an e-mail address can have at most {EMAIL_CHARS} "
                                 "characters", param_hint="'--member'")
    if len(display) > NAME.max_length:
        raise click.BadParameter(f"a name can have at most {NAME.max_length} characters",
                                 param_hint="'--member'")
    return email, display


def _country(text: str | None) -> str | None:
    from intake.supplychain.imports import COUNTRY_CODES

    if text is None:
        return None
    if text.upper() not in COUNTRY_CODES:
        raise click.BadParameter(f"{text!r} is not an ISO 3166-1 country code (MY, MX, VN)",
                                 param_hint="'--country'")
    return text.upper()


@desk_group.command("recover")
@click.option("--name", required=True, type=NAME, help="The desk's name.")
@click.option("--member", "email", required=True, type=Text(max_length=EMAIL_CHARS),
              help="E-mail of the account to give access.")
@friendly_errors
def desk_recover(name: str, email: str) -> None:
    """Restore access to a desk from its recovery secret (read from the terminal)."""
    from sqlalchemy import select

    from crypto.errors import MalformedRecoverySecret, WrongPassword
    from intake.accounts.members import desk_by_name, recover
    from intake.accounts.models import Account, Role
    from intake.errors import IntakeError

    secret = click.prompt("Recovery secret", hide_input=True)
    settings = load_settings()
    with database(settings, migrate_embedded=False) as db, db.transaction() as session:
        desk = desk_by_name(session, name)
        account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
        if account is None or account.role is not Role.MONITOR:
            raise IntakeError(f"no monitor account has the address {email}")
        try:
            recover(session, desk=desk, secret=secret, account=account)
        except MalformedRecoverySecret as exc:
            raise IntakeError(f"the recovery secret is mistyped: {exc}") from None
        except WrongPassword:
            raise IntakeError("that is not this desk's recovery secret") from None
    click.echo(f"{email} is an active member of {name} again and can sign in.")


@click.group("audit")
def audit_group() -> None:
    """The append-only, hash-chained audit log."""


@audit_group.command("verify")
@friendly_errors
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken link."""
    from intake.audit.service import verify

    settings = load_settings()
    with database(settings, migrate_embedded=False) as db, db.transaction() as session:
        count, broken = verify(session)
    if broken is not None:
        click.echo(f"audit chain BROKEN at event {broken.event_id}: it {broken.reason} "
                   f"({count - 1} events before it are intact)", err=True)
        raise SystemExit(1)
    click.echo(f"audit chain intact: {count} events")
