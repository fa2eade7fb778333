"""``intake desk create|recover`` and ``intake audit verify`` as an operator runs them."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from intake.audit.models import AuditEvent
from intake.db import make_engine
from intake.models import Desk, Membership, MembershipStatus
from tests.commands import INTAKE, run_intake
from tests.conftest import wipe

SECRET = re.compile(r"^\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4})+)\s*$", re.MULTILINE)


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, migrated_engine: Engine) -> dict[str, str]:
    wipe(migrated_engine)
    environ = {"INTAKE_INSTANCE": str(tmp_path / "instance"), "INTAKE_DATABASE_URL": database_url,
               "INTAKE_FAST_KDF": "1"}
    yield environ
    wipe(migrated_engine)


def create(cli_env: dict[str, str]) -> str:
    result = run_intake(["desk", "create", "--name", "Union Desk", "--country", "my",
                  "--member", "ann@union.example=Ann", "--member", "bo@union.example=Bo"],
                 cli_env)
    assert result.returncode == 0, result.stderr
    found = SECRET.search(result.stdout)
    assert found, result.stdout
    assert result.stdout.count("first password:") == 2
    return found.group(1)


def recover(cli_env: dict[str, str], secret: str) -> subprocess.CompletedProcess[str]:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    return subprocess.run(
        [*INTAKE, "desk", "recover", "--name", "Union Desk", "--member", "ann@union.example"],
        input=secret + "\n", env={**base, **cli_env}, capture_output=True, text=True,
        timeout=120)


def test_desk_create_prints_the_recovery_secret_once_and_recover_restores_access(
    cli_env: dict[str, str], migrated_engine: Engine
) -> None:
    secret = create(cli_env)
    with migrated_engine.begin() as connection:  # Ann loses her wrap (e.g. key damaged)
        connection.execute(update(Membership).values(status=MembershipStatus.REMOVED.name,
                                                     wrapped_desk_key=None))
    result = recover(cli_env, secret)
    assert result.returncode == 0, result.stderr
    with migrated_engine.connect() as connection:
        rows = connection.execute(select(Membership.status, Membership.wrapped_desk_key)).all()
    restored = [r for r in rows if r.wrapped_desk_key is not None]
    assert len(restored) == 1 and restored[0].status == MembershipStatus.ACTIVE


def test_recover_with_a_typo_or_another_secret_fails_in_one_line(
    cli_env: dict[str, str]
) -> None:
    secret = create(cli_env)
    typo = ("X" if secret[0] != "X" else "Y") + secret[1:]
    mistyped = recover(cli_env, typo)
    assert mistyped.returncode == 1 and "Traceback" not in mistyped.stderr
    assert "mistyped" in mistyped.stderr or "not this desk" in mistyped.stderr


def test_audit_verify_finds_a_tampered_event(
    cli_env: dict[str, str], database_url: str
) -> None:
    create(cli_env)
    create_other = run_intake(
        ["desk", "create", "--name", "Second Desk", "--member", "c@x.example"], cli_env)
    assert create_other.returncode == 0
    intact = run_intake(["audit", "verify"], cli_env)
    assert intact.returncode == 0 and "intact: 2 events" in intact.stdout
    engine = make_engine(database_url)
    with engine.begin() as connection:
        first = connection.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().first()
        connection.execute(update(AuditEvent).where(AuditEvent.id == first)
                           .values(detail="members=9"))
    engine.dispose()
    broken = run_intake(["audit", "verify"], cli_env)
    assert broken.returncode == 1
    assert f"BROKEN at event {first}" in broken.stderr


def desks_stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Desk)).scalar_one())


def assert_refused(result: subprocess.CompletedProcess[str], option: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Invalid value for '{option}'" in result.stderr


@pytest.mark.parametrize("name", ["", "   ", "D" * 201, "Desk\udcff", "Desk\x01"])
def test_desk_create_refuses_a_bad_name_and_stores_nothing(
    cli_env: dict[str, str], migrated_engine: Engine, name: str
) -> None:
    result = run_intake(["desk", "create", "--name", name], cli_env)
    assert_refused(result, "--name")
    assert desks_stored(migrated_engine) == 0


@pytest.mark.parametrize("country", ["Malaysia", "XX", "\udcff"])
def test_desk_create_refuses_a_country_that_is_not_an_iso_code(
    cli_env: dict[str, str], migrated_engine: Engine, country: str
) -> None:
    result = run_intake(["desk", "create", "--name", "Union Desk", "--country", country],
                        cli_env)
    assert_refused(result, "--country")
    assert desks_stored(migrated_engine) == 0


@pytest.mark.parametrize("members", [
    ["a" * 250 + "@x.org=Ann"],
    ["ann@x.org=" + "N" * 201],
    ["ann\udcff@x.org=Ann"],
    ["ann@x.org=Ann", "ANN@x.org=Ann again"],
])
def test_desk_create_refuses_a_bad_member_and_stores_nothing(
    cli_env: dict[str, str], migrated_engine: Engine, members: list[str]
) -> None:
    options = [part for member in members for part in ("--member", member)]
    result = run_intake(["desk", "create", "--name", "Union Desk", *options], cli_env)
    assert_refused(result, "--member")
    assert desks_stored(migrated_engine) == 0


@pytest.mark.parametrize(("option", "value"), [("--name", "Union\udcff"),
                                               ("--member", "ann\udcff@union.example")])
def test_desk_recover_refuses_an_argument_that_is_not_utf8(
    cli_env: dict[str, str], option: str, value: str
) -> None:
    arguments = {"--name": "Union Desk", "--member": "ann@union.example", option: value}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    result = subprocess.run(
        [*INTAKE, "desk", "recover", *(p for pair in arguments.items() for p in pair)],
        input="AAAA-BBBB\n", env={**base, **cli_env}, capture_output=True, text=True,
        timeout=120)
    assert_refused(result, option)
