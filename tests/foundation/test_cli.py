"""The ``intake`` command as a new user meets it: demo data, upgrades, and clear failures."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from intake.db import make_engine
from intake.models import Account, BuyerOrg, Contract, Coverage, Desk, Facility, SmsNumber
from tests.commands import assert_one_line_error, run_intake
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, wipe


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, migrated_engine: Engine) -> dict[str, str]:
    environ = {"INTAKE_INSTANCE": str(tmp_path / "instance"), "INTAKE_DATABASE_URL": database_url}
    yield environ
    wipe(migrated_engine)


def count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def test_demo_twice_leaves_one_copy_and_prints_the_same_logins(
    cli_env: dict[str, str], migrated_engine: Engine
) -> None:
    first = run_intake(["demo", "--json"], cli_env)
    assert first.returncode == 0, first.stderr
    second = run_intake(["demo", "--json"], cli_env)
    assert second.returncode == 0, second.stderr
    assert json.loads(first.stdout) == json.loads(second.stdout)
    assert count(migrated_engine, Desk) == 2
    assert count(migrated_engine, Account) == 1 + 3 + 2
    assert count(migrated_engine, Facility) >= 12
    assert count(migrated_engine, BuyerOrg) == 2
    assert count(migrated_engine, SmsNumber) == 2
    assert count(migrated_engine, Contract) > count(migrated_engine, Facility)
    assert count(migrated_engine, Coverage) == 8


def test_demo_json_has_the_documented_keys(cli_env: dict[str, str]) -> None:
    result = run_intake(["demo", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"accounts", "facilities", "sms_numbers"} <= set(data)
    roles = sorted(a["role"] for a in data["accounts"])
    assert roles.count("monitor") == 3 and roles.count("buyer") == 2
    for account in data["accounts"]:
        assert {"role", "email", "password", "totp_secret"} <= set(account)
        assert len(account["password"]) >= 20
    monitors = [a for a in data["accounts"] if a["role"] == "monitor"]
    assert {m["desk"] for m in monitors} == {d["name"] for d in data["desks"]}
    assert all("buyer" in a for a in data["accounts"] if a["role"] == "buyer")
    countries = {f["country"] for f in data["facilities"]}
    assert {"MY", "MX", "TH", "VN"} <= countries
    assert all(f["poster_code"] for f in data["facilities"])
    assert {(n["country"], n["default_language"]) for n in data["sms_numbers"]} == {
        ("MY", "en"),
        ("MX", "es"),
    }


def test_demo_passwords_are_fresh_for_each_install(
    cli_env: dict[str, str], migrated_engine: Engine, tmp_path: Path
) -> None:
    first = json.loads(run_intake(["demo", "--json"], cli_env).stdout)
    wipe(migrated_engine)
    other = {**cli_env, "INTAKE_INSTANCE": str(tmp_path / "other-instance")}
    second = json.loads(run_intake(["demo", "--json"], other).stdout)
    assert {a["password"] for a in first["accounts"]}.isdisjoint(
        {a["password"] for a in second["accounts"]}
    )


def test_demo_logins_unlock_the_demo_accounts(
    cli_env: dict[str, str], migrated_engine: Engine
) -> None:
    from crypto.hierarchy import unwrap_account_key

    data = json.loads(run_intake(["demo", "--json"], cli_env).stdout)
    monitor = next(a for a in data["accounts"] if a["role"] == "monitor")
    with migrated_engine.connect() as connection:
        wrapped = connection.execute(
            select(Account.wrapped_private_key).where(Account.email == monitor["email"])
        ).scalar_one()
    assert unwrap_account_key(wrapped, monitor["password"]) is not None


def test_malformed_database_url_gives_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run_intake(
        ["db", "upgrade"],
        {"INTAKE_INSTANCE": str(tmp_path / "i"), "INTAKE_DATABASE_URL": "nonsense"},
    )
    assert_one_line_error(result, "INTAKE_DATABASE_URL")


def test_unreachable_database_gives_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run_intake(
        ["db", "upgrade"],
        {
            "INTAKE_INSTANCE": str(tmp_path / "i"),
            "INTAKE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/intake",
        },
    )
    assert_one_line_error(result, "cannot reach the database", "INTAKE_DATABASE_URL")


def test_missing_instance_parent_gives_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run_intake(["demo"], {"INTAKE_INSTANCE": str(tmp_path / "missing" / "instance")})
    assert_one_line_error(result, "INTAKE_INSTANCE")
    assert not (tmp_path / "missing").exists()


@pytest.fixture
def immutable_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "immutable"
    folder.mkdir()
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here to make an unwritable folder")
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_unwritable_instance_gives_one_line_and_exit_1(immutable_dir: Path) -> None:
    result = run_intake(["demo"], {"INTAKE_INSTANCE": str(immutable_dir)})
    assert_one_line_error(result, "INTAKE_INSTANCE", "not writable")
    assert list(immutable_dir.iterdir()) == []


def test_embedded_database_is_migrated_by_demo(tmp_path: Path) -> None:
    environ = {"INTAKE_INSTANCE": str(tmp_path / "fresh")}
    result = run_intake(["demo", "--json"], environ)
    assert result.returncode == 0, result.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh' / 'intake.sqlite3'}")
    assert count(engine, Desk) == 2
    engine.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL run only (INTAKE_TEST_DATABASE_URL)")
def test_postgres_is_never_migrated_behind_the_operators_back(tmp_path: Path) -> None:
    assert TEST_DATABASE_URL is not None
    admin = make_engine(TEST_DATABASE_URL)
    name = f"intake_unmigrated_{os.getpid()}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        result = run_intake(["demo"], {"INTAKE_INSTANCE": str(tmp_path / "i"),
                                       "INTAKE_DATABASE_URL": url})
        assert_one_line_error(result, "intake db upgrade")
        upgraded = run_intake(["db", "upgrade"], {"INTAKE_INSTANCE": str(tmp_path / "i"),
                                           "INTAKE_DATABASE_URL": url})
        assert upgraded.returncode == 0, upgraded.stderr
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize(("name", "value"), [
    ("INTAKE_SMTP_URL", "smtp://[::1"),
    ("INTAKE_CONTACT_RETENTION_DAYS", "²"),
    ("INTAKE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:notaport/intake"),
])
def test_a_malformed_setting_gives_one_line_not_a_traceback(
    tmp_path: Path, name: str, value: str
) -> None:
    result = run_intake(["retention", "show"],
                        {"INTAKE_INSTANCE": str(tmp_path / "i"), name: value})
    assert_one_line_error(result, name, status=1)


def test_a_courier_key_file_that_is_not_text_gives_one_line(tmp_path: Path) -> None:
    key_file = tmp_path / "courier.key"
    key_file.write_bytes(b"\xff\xfe\x00binary")
    result = run_intake(["db", "upgrade"], {"INTAKE_INSTANCE": str(tmp_path / "i"),
                                            "INTAKE_COURIER_KEY_FILE": str(key_file)})
    assert_one_line_error(result, "INTAKE_COURIER_KEY", status=1)


def test_a_mistyped_courier_key_gives_one_line(tmp_path: Path) -> None:
    result = run_intake(["db", "upgrade"], {"INTAKE_INSTANCE": str(tmp_path / "i"),
                                            "INTAKE_COURIER_KEY": "A" * 43})
    assert_one_line_error(result, "INTAKE_COURIER_KEY", status=1)


@pytest.mark.parametrize("port", ["-1", "0", "65536", "99999"])
def test_serve_refuses_a_port_out_of_range(tmp_path: Path, port: str) -> None:
    result = run_intake(["serve", "--port", port], {"INTAKE_INSTANCE": str(tmp_path / "i")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--port'" in result.stderr


def test_serve_refuses_a_host_that_is_not_utf8(tmp_path: Path) -> None:
    result = run_intake(["serve", "--host", "\udcff", "--port", "5999"],
                        {"INTAKE_INSTANCE": str(tmp_path / "i")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--host'" in result.stderr


@pytest.mark.parametrize("command", [["worker", "--burst"], ["alerts", "deliver"]])
def test_unreachable_redis_gives_one_line_and_exit_1(
    cli_env: dict[str, str], command: list[str]
) -> None:
    result = run_intake(command, {**cli_env, "INTAKE_REDIS_URL": "redis://127.0.0.1:1/8"})
    assert_one_line_error(result, "cannot reach Redis", "INTAKE_REDIS_URL", status=1)


@pytest.mark.parametrize("damage", [b"\xff\xfe not text", b"{not json", b"[]", b"{}"])
def test_demo_with_a_damaged_logins_file_gives_one_line(
    cli_env: dict[str, str], damage: bytes
) -> None:
    assert run_intake(["demo"], cli_env).returncode == 0
    (Path(cli_env["INTAKE_INSTANCE"]) / "demo-logins.json").write_bytes(damage)
    result = run_intake(["demo"], cli_env)
    assert_one_line_error(result, "demo-logins.json", status=1)
