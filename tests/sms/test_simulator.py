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


def test_simulator_walks_a_report_and_shows_segments(
    sms_app: Flask, sms_settings: Settings, sms_world: SmsWorld, tmp_path: Path
) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(INTAKE_INSTANCE=str(tmp_path / "sim"),
                   INTAKE_PUBLIC_URL=sms_settings.public_url,
                   TWILIO_AUTH_TOKEN=sms_settings.twilio_auth_token or "")
    with serve(sms_app) as live:
        result = subprocess.run(
            [sys.executable, "-m", "intake.cli", "sms-sim", "--url", live.origin],
            input="hello\nMY4821\n1\nNo pay since March\n#\n2\n", env=environ,
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("phone< ") == 5
    assert "[GSM-7," in result.stdout and "1 segment]" in result.stdout
    assert "(no reply)" in result.stdout  # the words themselves get no answer
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        assert session.scalars(select(Report)).one().receipt_lookup is not None


def test_simulator_sends_a_picture_as_twilio_describes_one(
    sms_app: Flask, sms_settings: Settings, sms_world: SmsWorld, tmp_path: Path
) -> None:
    """A photo alone is answered that pictures are not kept; one with words keeps the words
    in the report's details."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(INTAKE_INSTANCE=str(tmp_path / "sim"),
                   INTAKE_PUBLIC_URL=sms_settings.public_url,
                   TWILIO_AUTH_TOKEN=sms_settings.twilio_auth_token or "")
    with serve(sms_app) as live:
        result = subprocess.run(
            [sys.executable, "-m", "intake.cli", "sms-sim", "--url", live.origin],
            input="hello\n/picture\nMY4821\n1\n/picture The broken exit door\n#\n2\n",
            env=environ, capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 0, result.stderr
    pictures = say(sms_app, prompts.PICTURES, "en")
    assert result.stdout.count(f"phone< {pictures}") == 2  # alone, and with the words
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        assert len(session.scalars(select(ReportMessage)).all()) == 1  # the words were kept


def test_simulator_says_which_burmese_replies_are_spelled_in_zawgyi() -> None:
    assert describe(ZAWGYI_WORDS).endswith(", Zawgyi]")
    assert "Zawgyi" not in describe(UNICODE_WORDS) and "Zawgyi" not in describe("hello")


def test_simulator_with_the_wrong_token_says_so(sms_app: Flask, sms_settings: Settings,
                                                 sms_world: SmsWorld, tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(INTAKE_INSTANCE=str(tmp_path / "sim"),
                   INTAKE_PUBLIC_URL=sms_settings.public_url, TWILIO_AUTH_TOKEN="f" * 32)
    with serve(sms_app) as live:
        result = subprocess.run(
            [sys.executable, "-m", "intake.cli", "sms-sim", "--url", live.origin],
            input="hello\n", env=environ, capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 1
    assert "403" in result.stderr and "Traceback" not in result.stderr


def simulate(arguments: list[str], tmp_path: Path, stdin: bytes = b"hello\n",
             **extra: str) -> subprocess.CompletedProcess[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(INTAKE_INSTANCE=str(tmp_path / "sim"), **extra)
    return subprocess.run([sys.executable, "-m", "intake.cli", "sms-sim", *arguments],
                          input=stdin, env=environ, capture_output=True, timeout=120)


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
