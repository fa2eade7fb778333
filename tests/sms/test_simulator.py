"""``intake sms-sim`` plays a phone against a running server with signed webhooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from channels.sms.simulator import describe
from intake.db import Database
from intake.messaging import prompts
from intake.reports.models import Report, ReportMessage
from intake.settings import Settings
from tests.burmese import UNICODE_WORDS, ZAWGYI_WORDS
from tests.sms.conftest import SmsWorld, say
from tests.web.live import serve


def simulate(arguments: list[str], tmp_path: Path, stdin: bytes = b"hello\n",
             **extra: str) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(INTAKE_INSTANCE=str(tmp_path / "sim"), **extra)
    return subprocess.run([sys.executable, "-m", "intake.cli", "sms-sim", *arguments],
                          input=stdin, env=environ, capture_output=True, timeout=120)


def play(app: Flask, settings: Settings, tmp_path: Path, lines: str,
         token: str | None = None) -> tuple[int, str, str]:
    """``intake sms-sim`` typing ``lines`` against ``app``, served live: its exit code,
    output and errors."""
    with serve(app) as live:
        result = simulate(["--url", live.origin], tmp_path, stdin=lines.encode(),
                          INTAKE_PUBLIC_URL=settings.public_url,
                          TWILIO_AUTH_TOKEN=token or settings.twilio_auth_token or "")
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def test_simulator_walks_a_report_and_shows_segments(
    sms_app: Flask, sms_settings: Settings, sms_world: SmsWorld, tmp_path: Path
) -> None:
    code, out, err = play(sms_app, sms_settings, tmp_path,
                          "hello\nMY4821\n1\nNo pay since March\n#\n2\n")
    assert code == 0, err
    assert out.count("phone< ") == 5
    assert "[GSM-7," in out and "1 segment]" in out
    assert "(no reply)" in out  # the words themselves get no answer
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        assert session.scalars(select(Report)).one().receipt_lookup is not None


def test_simulator_sends_a_picture_as_twilio_describes_one(
    sms_app: Flask, sms_settings: Settings, sms_world: SmsWorld, tmp_path: Path
) -> None:
    """A photo alone is answered that pictures are not kept; one with words keeps the words
    in the report's details."""
    code, out, err = play(sms_app, sms_settings, tmp_path,
                          "hello\n/picture\nMY4821\n1\n/picture The broken exit door\n#\n2\n")
    assert code == 0, err
    pictures = say(sms_app, prompts.PICTURES, "en")
    assert out.count(f"phone< {pictures}") == 2  # alone, and with the words
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        assert len(session.scalars(select(ReportMessage)).all()) == 1  # the words were kept


def test_simulator_says_which_burmese_replies_are_spelled_in_zawgyi() -> None:
    assert describe(ZAWGYI_WORDS).endswith(", Zawgyi]")
    assert "Zawgyi" not in describe(UNICODE_WORDS) and "Zawgyi" not in describe("hello")


def test_simulator_with_the_wrong_token_says_so(sms_app: Flask, sms_settings: Settings,
                                                 sms_world: SmsWorld, tmp_path: Path) -> None:
    code, _out, err = play(sms_app, sms_settings, tmp_path, "hello\n", token="f" * 32)
    assert code == 1
    assert "403" in err and "Traceback" not in err


@pytest.mark.parametrize("url", ["not-a-url", "http://[::1", "http://127.0.0.1:notaport",
                                 "ftp://127.0.0.1:1", "http://127.0.0.1:1/\udcff"])
def test_simulator_refuses_a_url_that_is_not_a_web_address(tmp_path: Path, url: str) -> None:
    result = simulate(["--url", url], tmp_path)
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert b"Invalid value for '--url'" in result.stderr


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_simulator_refuses_a_number_that_is_not_utf8(tmp_path: Path, option: str) -> None:
    result = simulate(["--url", "http://127.0.0.1:1", option, "+60\udcff"], tmp_path)
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert f"Invalid value for '{option}'".encode() in result.stderr


def test_simulator_refuses_a_line_that_is_not_utf8(tmp_path: Path) -> None:
    result = simulate(["--url", "http://127.0.0.1:1"], tmp_path, stdin=b"\xff\xfe hello\n")
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert b"not valid UTF-8" in result.stderr


def test_simulator_with_a_malformed_setting_gives_one_line(tmp_path: Path) -> None:
    result = simulate([], tmp_path, INTAKE_PUBLIC_URL="http://[::1")
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert b"INTAKE_PUBLIC_URL" in result.stderr
