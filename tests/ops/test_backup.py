"""Backups (issue 10 item 5): an age-encrypted archive the server cannot read, that restores
into an empty database where every report still opens with its desk's key — on SQLite and on
PostgreSQL, with this software or with the standard ``age`` tool."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from crypto.envelope import open_sealed
from crypto.hierarchy import TEST_FAST
from intake import schema
from intake.backup import archive, databases, service
from intake.backup.archive import ArchiveWriter
from intake.backup.errors import (
    ArchiveDamaged,
    ArchiveMismatch,
    DumpFailed,
    TargetNotEmpty,
    WrongIdentity,
)
from intake.backup.keys import generate_identity_file, load_identities, parse_recipients
from intake.db import Database, make_engine
from intake.reports.models import Channel, Report
from intake.reports.service import NewReport, body_context, store_report
from intake.settings import Settings
from tests import factories
from tests.commands import assert_one_line_error, run_intake
from tests.conftest import ON_POSTGRES, wipe

FACILITY_NAME = "Penang Circuit Assembly"
DETAILS = ("Wages for March were not paid.", "Our passports are kept by the agent.",
           "Overtime until 2 am, six days a week.")
AGE = shutil.which("age")
NO_AGE = "the `age` tool is not installed (Debian package `age`); CI installs it"


@dataclass
class Key:
    identity: Path
    recipient: str


@dataclass
class World:
    desk: factories.DeskWithKey
    reports: dict[str, str]  # report id -> details


def make_key(folder: Path, name: str = "backup.key") -> Key:
    path = folder / name
    return Key(path, generate_identity_file(path))


@pytest.fixture
def key(tmp_path: Path) -> Key:
    return make_key(tmp_path)


@pytest.fixture
def world(db: Database) -> World:
    """A desk covering a facility, and three sealed reports to it."""
    with db.transaction() as session:
        desk = factories.desk(session)
        facility = factories.facility(session, name=FACILITY_NAME, code="MY4821")
        factories.cover(session, desk, facility)
        reports = {}
        for details in DETAILS:
            row, _receipt = store_report(session, NewReport(
                channel=Channel.WEB, language="en", facility_id=facility.id,
                categories=("wages",), details=details, contact_number=None), profile=TEST_FAST)
            reports[str(row.id)] = details
        session.expunge_all()
    return World(desk, reports)


@pytest.fixture
def target_url(tmp_path: Path, database_url: str) -> Iterator[str]:
    """A newly created, empty database to restore into (PostgreSQL: the test database's name
    with ``_restore``, created and dropped here)."""
    if not ON_POSTGRES:
        folder = tmp_path / "restored"
        folder.mkdir()
        yield f"sqlite:///{folder / 'intake.sqlite3'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def create_archive(settings: Settings, key: Key, path: Path) -> archive.Manifest:
    with service.open_output(path) as output:
        return service.create(settings.database_url, instance=settings.instance_path,
                              recipients=parse_recipients([key.recipient]), output=output,
                              fingerprints=service.fingerprints(settings))


def restore(settings: Settings, key: Key, path: Path, target: str) -> archive.Manifest:
    return service.restore(target, instance=settings.instance_path, archive=path,
                           identities=load_identities(key.identity))


def table_count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if ON_POSTGRES:
                query = "SELECT count(*) FROM information_schema.tables WHERE table_schema='public'"
            else:
                query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def opened_reports(url: str, desk: factories.DeskWithKey) -> dict[str, str]:
    """Every report in the database at ``url``, opened with the desk's private key."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Report.id, Report.body_sealed)).all()
    finally:
        engine.dispose()
    return {str(report_id): json.loads(open_sealed(
        sealed, desk.key, context=body_context(report_id)))["details"]
        for report_id, sealed in rows}


def encrypt_archive(tar_bytes: bytes, key: Key, path: Path) -> Path:
    """An archive as anyone holding the public recipient could make one."""
    path.write_bytes(pyrage.encrypt(tar_bytes, parse_recipients([key.recipient])))
    return path


def forged_tar(manifest: archive.Manifest, payload: bytes, *,
               extra: tuple[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        members = [(archive.part_name(0), payload)]
        members += [extra] if extra else []
        members += [(archive.MANIFEST_NAME, manifest.to_json())]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def manifest_for(payload: bytes, **changes: object) -> archive.Manifest:
    fields: dict[str, object] = {
        "database": "postgresql" if ON_POSTGRES else "sqlite",
        "payload": "pg_dump-custom" if ON_POSTGRES else "sqlite3",
        "revision": schema.head_revision(), "created_on": "2026-01-01",
        "sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload), "parts": 1,
    }
    fields.update(changes)
    return archive.Manifest(**fields)  # type: ignore[arg-type]


# --- the round trip -------------------------------------------------------------------------


def test_restored_database_opens_every_report_with_the_desk_key(
    settings: Settings, world: World, key: Key, tmp_path: Path, target_url: str,
    migrated_engine: Engine,
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    wipe(migrated_engine)  # the original is gone; only the backup remains

    restore(settings, key, path, target_url)

    assert opened_reports(target_url, world.desk) == world.reports


def test_restored_database_is_at_the_schema_revision_of_the_backup(
    settings: Settings, world: World, key: Key, tmp_path: Path, target_url: str
) -> None:
    path = tmp_path / "intake.age"
    manifest = create_archive(settings, key, path)
    restore(settings, key, path, target_url)
    engine = make_engine(target_url)
    try:
        assert schema.current_revision(engine) == manifest.revision == schema.head_revision()
    finally:
        engine.dispose()


def test_a_dump_larger_than_one_part_is_split_and_restored_whole(
    settings: Settings, world: World, key: Key, tmp_path: Path, target_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archive, "PART_SIZE", 4096)
    path = tmp_path / "intake.age"
    manifest = create_archive(settings, key, path)
    assert manifest.parts > 3
    restore(settings, key, path, target_url)
    assert opened_reports(target_url, world.desk) == world.reports


def test_restore_reads_an_archive_from_standard_input(
    settings: Settings, world: World, key: Key, tmp_path: Path, target_url: str
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    environ = {"INTAKE_INSTANCE": str(settings.instance_path), "INTAKE_DATABASE_URL": target_url}
    with path.open("rb") as stdin:
        result = run_intake(["backup", "restore", "-", "--identity", str(key.identity)], environ,
                     stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert opened_reports(target_url, world.desk) == world.reports


@pytest.mark.parametrize("given", [b"", b"not a backup at all"])
def test_restore_from_standard_input_names_it_when_it_is_no_backup(
    settings: Settings, key: Key, tmp_path: Path, target_url: str, given: bytes
) -> None:
    """Not the temporary file it was copied into, which the user never saw."""
    garbage = tmp_path / "garbage"
    garbage.write_bytes(given)
    environ = {"INTAKE_INSTANCE": str(settings.instance_path), "INTAKE_DATABASE_URL": target_url}
    with garbage.open("rb") as stdin:
        result = run_intake(["backup", "restore", "-", "--identity", str(key.identity)],
                            environ, stdin=stdin)
    assert_one_line_error(result, "standard input is not an age-encrypted backup", status=1)
    assert str(settings.instance_path) not in result.stderr


# --- what the archive is --------------------------------------------------------------------


def test_archive_holds_nothing_of_the_dump_in_the_clear(
    settings: Settings, world: World, key: Key, tmp_path: Path
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    plain = bytearray()
    service._decrypt(path, identities=load_identities(key.identity), on_payload=plain.extend)
    needles = [b"alembic_version", b"report_desk", b"manifest.json", b"payload/000000"]
    encrypted = path.read_bytes()
    assert b"alembic_version" in plain and b"report_desk" in plain  # so the search can fail
    assert [n for n in needles if n in encrypted] == []
    assert encrypted.startswith(b"age-encryption.org/v1\n")


def test_archive_and_its_temporary_files_are_private(
    settings: Settings, world: World, key: Key, tmp_path: Path, target_url: str
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    restore(settings, key, path, target_url)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = [p.name for p in settings.instance_path.iterdir() if p.name.startswith(".backup")]
    if not ON_POSTGRES:
        leftovers += [p.name for p in Path(make_url(target_url).database or "").parent.iterdir()
                      if p.name.startswith(".backup")]
    assert leftovers == []


@pytest.mark.skipif(AGE is None, reason=NO_AGE)
def test_the_age_tool_decrypts_the_archive_to_a_tar_with_the_manifest(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    identity = tmp_path / "age-keygen.key"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(identity)], check=True,
                               capture_output=True, text=True).stdout.strip()
    path = tmp_path / "intake.age"
    manifest = create_archive(settings, Key(identity, recipient), path)

    decrypted = subprocess.run(["age", "-d", "-i", str(identity), str(path)], check=True,
                               capture_output=True, timeout=60).stdout

    with tarfile.open(fileobj=io.BytesIO(decrypted)) as tar:
        names = tar.getnames()
        payload = b"".join(tar.extractfile(name).read()  # type: ignore[union-attr]
                           for name in names[:-1])
        written = json.loads(tar.extractfile(archive.MANIFEST_NAME).read())  # type: ignore[union-attr]
    assert names == [archive.part_name(i) for i in range(manifest.parts)] + ["manifest.json"]
    assert written["sha256"] == hashlib.sha256(payload).hexdigest() == manifest.sha256
    assert written["database"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert written["revision"] == schema.head_revision()
    assert written["created_on"] == manifest.created_on  # a day, never the minute


@pytest.mark.skipif(AGE is None, reason=NO_AGE)
def test_keygen_writes_an_identity_the_age_tool_uses(tmp_path: Path) -> None:
    made = make_key(tmp_path)
    encrypted = subprocess.run(["age", "-r", made.recipient], input=b"hello", check=True,
                               capture_output=True).stdout
    decrypted = subprocess.run(["age", "-d", "-i", str(made.identity)], input=encrypted,
                               check=True, capture_output=True).stdout
    assert decrypted == b"hello"
    assert stat.S_IMODE(made.identity.stat().st_mode) == 0o600


# --- refusals that leave the target as it was ----------------------------------------------


def test_wrong_identity_is_refused_and_the_target_untouched(
    settings: Settings, world: World, key: Key, tmp_path: Path, target_url: str
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    other = make_key(tmp_path, "other.key")
    with pytest.raises(WrongIdentity, match="does not open this backup"):
        restore(settings, other, path, target_url)
    assert table_count(target_url) == 0


@pytest.mark.parametrize("where", ["header MAC", "middle", "last byte", "cut short"])
def test_altered_archive_is_refused_and_the_target_untouched(
    settings: Settings, world: World, key: Key, tmp_path: Path, target_url: str, where: str
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    data = bytearray(path.read_bytes())
    if where == "cut short":
        del data[-100:]
    else:
        mac = data.index(b"\n--- ") + 6
        offset = {"header MAC": mac, "middle": len(data) // 2, "last byte": len(data) - 1}[where]
        data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveDamaged):
        restore(settings, key, path, target_url)
    assert table_count(target_url) == 0


def test_non_empty_target_is_refused_and_keeps_its_data(
    settings: Settings, world: World, key: Key, tmp_path: Path, migrated_engine: Engine
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    with pytest.raises(TargetNotEmpty, match="not empty"):
        restore(settings, key, path, settings.database_url)
    with migrated_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Report)).scalar_one() == 3


def test_archive_of_another_schema_revision_is_refused(
    settings: Settings, key: Key, tmp_path: Path, target_url: str
) -> None:
    payload = b"a dump of an older schema"
    forged = forged_tar(manifest_for(payload, revision="0001"), payload)
    path = encrypt_archive(forged, key, tmp_path / "old.age")
    with pytest.raises(ArchiveMismatch, match="schema revision 0001"):
        restore(settings, key, path, target_url)
    assert table_count(target_url) == 0


def test_archive_of_another_database_kind_is_refused(
    settings: Settings, key: Key, tmp_path: Path, target_url: str
) -> None:
    payload = b"a dump of the other kind of database"
    other = "sqlite" if ON_POSTGRES else "postgresql"
    path = encrypt_archive(forged_tar(manifest_for(payload, database=other), payload), key,
                           tmp_path / "other.age")
    with pytest.raises(ArchiveMismatch, match=f"this is a {other} backup"):
        restore(settings, key, path, target_url)
    assert table_count(target_url) == 0


def test_payload_that_does_not_match_its_manifest_is_refused(
    settings: Settings, key: Key, tmp_path: Path, target_url: str
) -> None:
    manifest = manifest_for(b"what the manifest promised")  # same size, other bytes:
    path = encrypt_archive(forged_tar(manifest, b"what the manifest PROMISED"), key,
                           tmp_path / "x.age")
    with pytest.raises(ArchiveDamaged, match="does not match its manifest"):
        restore(settings, key, path, target_url)
    assert table_count(target_url) == 0


def test_manifest_with_fields_of_the_wrong_type_is_refused() -> None:
    written = json.loads(manifest_for(b"dump").to_json())
    with pytest.raises(ArchiveDamaged, match="wrong type"):
        archive.Manifest.from_json(json.dumps({**written, "fingerprints": 5}).encode())


def test_archive_with_a_member_of_its_own_is_refused(
    settings: Settings, key: Key, tmp_path: Path, target_url: str
) -> None:
    payload = b"dump"
    forged = forged_tar(manifest_for(payload), payload, extra=("run-me.sh", b"rm -rf /"))
    path = encrypt_archive(forged, key, tmp_path / "x.age")
    with pytest.raises(ArchiveDamaged, match=r"unexpected member 'run-me\.sh'"):
        restore(settings, key, path, target_url)


# --- the dump tools ------------------------------------------------------------------------


def test_missing_pg_dump_is_named_with_its_package(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DumpFailed, match=r"pg_dump is not installed.*postgresql-client"), \
            databases.dump("postgresql+psycopg://intake@127.0.0.1:9/intake",
                           instance=settings.instance_path):
        pass


def test_failing_pg_dump_ends_the_backup_before_any_manifest(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nprintf 'PGDMP partial'\n"
                    "echo 'pg_dump: error: connection lost' >&2\nexit 1\n")
    fake.chmod(0o700)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    with databases.dump("postgresql+psycopg://intake@127.0.0.1:9/intake",
                        instance=settings.instance_path) as stream:
        writer = ArchiveWriter(stream, database="postgresql", payload_format="pg_dump-custom",
                               revision="x", day=dt.date(2026, 1, 1), fingerprints={})
        with pytest.raises(DumpFailed, match=r"pg_dump failed \(exit 1\): .*connection lost"):
            list(writer)
    assert writer.manifest is None


def test_database_password_goes_to_pg_dump_in_its_environment_not_its_arguments() -> None:
    url, env = databases.libpq_command(
        "postgresql+psycopg://intake:s3cret-pw@db.example:5433/intake?sslmode=require")
    assert url == "postgresql://intake@db.example:5433/intake?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret-pw"


# --- secrets that live outside the database ------------------------------------------------


def test_restore_names_each_secret_that_differs_from_the_backups(
    settings: Settings, world: World, key: Key, tmp_path: Path
) -> None:
    manifest = create_archive(settings, key, tmp_path / "intake.age")
    moved = Settings(**{**settings.__dict__, "pepper": os.urandom(32)})
    assert service.secret_warnings(manifest, settings) == []
    warnings = service.secret_warnings(manifest, moved)
    assert len(warnings) == 1 and warnings[0].startswith("INTAKE_PEPPER differs")


def test_manifest_fingerprints_reveal_nothing_of_the_secrets(settings: Settings) -> None:
    prints = service.fingerprints(settings)
    assert set(prints) == {"INTAKE_SECRET_KEY", "INTAKE_PEPPER"}
    for secret in (settings.secret_key, settings.pepper):
        assert secret.hex()[:16] not in prints.values()


# --- the commands, as an operator runs them -------------------------------------------------


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    return {"INTAKE_INSTANCE": str(settings.instance_path),
            "INTAKE_DATABASE_URL": settings.database_url}


def test_commands_create_then_restore(
    cli_env: dict[str, str], world: World, key: Key, tmp_path: Path, target_url: str
) -> None:
    path = tmp_path / "intake.age"
    created = run_intake(["backup", "create", "-o", str(path)],
                  {**cli_env, "INTAKE_BACKUP_RECIPIENT": key.recipient})
    assert created.returncode == 0, created.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() in created.stdout

    restored = run_intake(["backup", "restore", str(path), "--identity", str(key.identity)],
                   {**cli_env, "INTAKE_DATABASE_URL": target_url})

    assert restored.returncode == 0, restored.stderr
    assert "sha256 verified" in restored.stdout
    assert opened_reports(target_url, world.desk) == world.reports


def test_command_without_a_recipient_says_how_to_make_one(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_intake(["backup", "create", "-o", str(tmp_path / "x.age")], cli_env)
    assert_one_line_error(result, "--recipient", "age-keygen", status=1)
    assert not (tmp_path / "x.age").exists()


def test_command_never_overwrites_an_archive(
    cli_env: dict[str, str], key: Key, tmp_path: Path
) -> None:
    path = tmp_path / "x.age"
    path.write_bytes(b"yesterday's backup")
    result = run_intake(["backup", "create", "--recipient", key.recipient, "-o", str(path)],
                        cli_env)
    assert_one_line_error(result, "already exists", status=1)
    assert path.read_bytes() == b"yesterday's backup"


def test_command_refuses_a_recipient_that_is_not_utf8(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_intake(["backup", "create", "--recipient", "age1\udcff", "-o",
                         str(tmp_path / "x.age")], cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--recipient'" in result.stderr
    assert not (tmp_path / "x.age").exists()


@pytest.mark.parametrize("problem", ["unreadable file", "wrong identity", "altered archive",
                                     "non-empty target", "bad identity file"])
def test_command_failures_are_one_line_and_exit_1(
    cli_env: dict[str, str], settings: Settings, world: World, key: Key, tmp_path: Path,
    target_url: str, problem: str,
) -> None:
    path = tmp_path / "intake.age"
    create_archive(settings, key, path)
    identity, target, needle = key.identity, target_url, ""
    if problem == "unreadable file":
        path, needle = tmp_path / "missing.age", "cannot read the backup file"
    elif problem == "wrong identity":
        identity, needle = make_key(tmp_path, "other.key").identity, "does not open this backup"
    elif problem == "altered archive":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x80
        path.write_bytes(bytes(data))
        needle = "damaged or was altered"
    elif problem == "non-empty target":
        target, needle = settings.database_url, "not empty"
    else:
        identity = tmp_path / "not-a-key"
        identity.write_text("age1notasecret\n")
        needle = "not an age X25519 identity"
    result = run_intake(["backup", "restore", str(path), "--identity", str(identity)],
                 {**cli_env, "INTAKE_DATABASE_URL": target})
    assert_one_line_error(result, needle, status=1)


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump runs only for PostgreSQL")
def test_failed_pg_dump_leaves_no_archive_behind(
    cli_env: dict[str, str], key: Key, tmp_path: Path
) -> None:
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nprintf 'PGDMP'\necho 'pg_dump: error: disk full' >&2\nexit 1\n")
    fake.chmod(0o700)
    path = tmp_path / "x.age"
    result = run_intake(["backup", "create", "--recipient", key.recipient, "-o", str(path)],
                 {**cli_env, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"})
    assert_one_line_error(result, "pg_dump failed", "disk full", status=1)
    assert not path.exists()


def test_keygen_command_prints_the_public_key_of_the_identity_it_writes(
    tmp_path: Path
) -> None:
    identity = tmp_path / "backup.key"
    result = run_intake(["backup", "keygen", "-o", str(identity)],
                        {"INTAKE_INSTANCE": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    public = result.stdout.splitlines()[0].removeprefix("Public key: ")
    assert str(load_identities(identity)[0].to_public()) == public
