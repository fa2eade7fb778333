"""Settings come from the environment in one place and refuse bad values in one clear line."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from intake.errors import ConfigError
from intake.settings import Settings


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"INTAKE_INSTANCE": str(tmp_path / "instance"), **extra}


def test_embedded_default_creates_secrets_once_with_0600(tmp_path: Path) -> None:
    first = Settings.from_env(env(tmp_path))
    second = Settings.from_env(env(tmp_path))
    assert first.database_url.startswith("sqlite:///")
    assert first.secret_key == second.secret_key and first.pepper == second.pepper
    assert first.courier_key == second.courier_key and first.courier_key is not None
    for name in ("secret_key", "pepper", "courier_key"):
        mode = stat.S_IMODE(os.stat(tmp_path / "instance" / name).st_mode)
        assert mode == 0o600, name


def _first_start(environ: dict[str, str], barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        settings = Settings.from_env(environ)
        results.put((settings.pepper, settings.secret_key, settings.courier_key,
                     settings.twilio_auth_token))
    except Exception as exc:
        results.put(repr(exc))


def test_processes_starting_together_on_a_new_instance_share_one_set_of_secrets(
        tmp_path: Path) -> None:
    """gunicorn's workers each read the settings as they boot: on a new instance they race
    to create its secrets. Every one must boot, with the same secrets (a loser that read a
    half-written file, or gave up because the file appeared, was a worker that failed)."""
    context = multiprocessing.get_context("fork")
    workers = 6
    for attempt in range(12):
        (tmp_path / str(attempt)).mkdir()
        environ = env(tmp_path / str(attempt))
        barrier, results = context.Barrier(workers), context.Queue()
        processes = [context.Process(target=_first_start, args=(environ, barrier, results))
                     for _ in range(workers)]
        for process in processes:
            process.start()
        found = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        assert len(set(found)) == 1, found
        assert not isinstance(found[0], str), found[0]


def test_secrets_from_the_environment_win(tmp_path: Path) -> None:
    key = "ab" * 32
    settings = Settings.from_env(env(tmp_path, INTAKE_SECRET_KEY=key))
    assert settings.secret_key == bytes.fromhex(key)


def test_repr_never_shows_a_secret(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, INTAKE_SECRET_KEY="cd" * 32))
    assert "cd" * 8 not in repr(settings)
    assert settings.secret_key.hex() not in repr(settings)


@pytest.mark.parametrize(
    "url",
    ["not a url", "postgres//missing-colon", "mysql://root@localhost/intake", "://"],
)
def test_malformed_database_url_is_refused_in_one_line(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env(tmp_path, INTAKE_DATABASE_URL=url))
    message = str(caught.value)
    assert "INTAKE_DATABASE_URL" in message
    assert "\n" not in message


def test_database_password_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env(tmp_path, INTAKE_DATABASE_URL="mysql://u:hunter2pass@db/x"))
    assert "hunter2pass" not in str(caught.value)


def test_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INTAKE_PEPPER"):
        Settings.from_env(env(tmp_path, INTAKE_PEPPER="abcd"))


def test_bad_redis_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="INTAKE_REDIS_URL"):
        Settings.from_env(env(tmp_path, INTAKE_REDIS_URL="localhost:6379"))


def test_instance_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match="INTAKE_INSTANCE"):
        Settings.from_env({"INTAKE_INSTANCE": str(tmp_path / "afile")})


def test_instance_whose_parent_is_missing_is_refused_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    target = tmp_path / "no" / "such" / "instance"
    with pytest.raises(ConfigError, match="INTAKE_INSTANCE"):
        Settings.from_env({"INTAKE_INSTANCE": str(target)})
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(("name", "value"), [
    ("INTAKE_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:notaport/intake"),
    ("INTAKE_SMTP_URL", "smtp://[::1"),
    ("INTAKE_ONION_URL", "http://[x"),
    ("INTAKE_CONTACT_RETENTION_DAYS", "²"),
    ("INTAKE_REDIS_URL", "redis://127.0.0.1:6379/notadb"),
    ("INTAKE_REDIS_URL", "redis://127.0.0.1:notaport/0"),
    ("INTAKE_PUBLIC_URL", "http://[::1"),
    ("INTAKE_PUBLIC_URL", "127.0.0.1:5000"),
    ("INTAKE_COURIER_KEY", "!!!"),
    ("INTAKE_COURIER_KEY", "A" * 43),
])
def test_a_malformed_value_is_refused_naming_its_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        Settings.from_env(env(tmp_path, **{name: value}))
    assert "\n" not in str(caught.value)


def test_a_courier_key_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "courier.key"
    key_file.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="INTAKE_COURIER_KEY"):
        Settings.from_env(env(tmp_path, INTAKE_COURIER_KEY_FILE=str(key_file)))


def test_a_redis_url_naming_its_database_is_kept(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, INTAKE_REDIS_URL="redis://127.0.0.1:6379/8"))
    assert settings.redis_url == "redis://127.0.0.1:6379/8"


NOTICE_EN, NOTICE_MS = "HX" + "0a" * 16, "HX" + "1b" * 16


def test_whatsapp_notices_are_read_per_language(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, INTAKE_WHATSAPP_TEMPLATES=(
        f" en={NOTICE_EN} , ms = {NOTICE_MS},")))
    assert settings.whatsapp_templates == (("en", NOTICE_EN), ("ms", NOTICE_MS))
    assert settings.whatsapp_template("ms") == NOTICE_MS
    assert settings.whatsapp_template("th") == NOTICE_EN  # none in Thai: the English one
    assert Settings.from_env(env(tmp_path)).whatsapp_template("en") is None


@pytest.mark.parametrize("raw", [f"en:{NOTICE_EN}", "en=HX123", f"English={NOTICE_EN}",
                                 f"en={NOTICE_EN},en={NOTICE_MS}", f"={NOTICE_EN}"])
def test_malformed_whatsapp_notices_are_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="INTAKE_WHATSAPP_TEMPLATES"):
        Settings.from_env(env(tmp_path, INTAKE_WHATSAPP_TEMPLATES=raw))
