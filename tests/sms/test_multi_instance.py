"""Two app instances sharing the database (and Redis) carry one conversation between them."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from intake import create_app
from intake.db import Database
from intake.reports.models import Report
from intake.settings import Settings
from tests.procs import free_ports
from tests.sms.conftest import Phone, SmsWorld


def test_two_instances_carry_one_conversation(sms_app: Flask, sms_settings: Settings,
                                              sms_world: SmsWorld) -> None:
    other = create_app(sms_settings)  # its own engine, pool, limiter and job queue
    try:
        phones = [Phone(sms_app.test_client(), sms_settings),
                  Phone(other.test_client(), sms_settings)]
        script = ["hello", "penang circit", "1", "2", "Sixteen hours", "no day off", "#", "2"]
        answers = [phones[i % 2].text(body) for i, body in enumerate(script)]
        assert re.search(r"\d{4} \d{4} \d{4} \d{4}", answers[-1][0])
        database: Database = sms_app.extensions["intake.db"]
        with database.transaction() as session:
            report = session.scalars(select(Report)).one()
            assert report.categories == "hours" and len(report.messages) == 2
    finally:
        other.extensions["intake.jobs"].drain()
        other.extensions["intake.db"].dispose()


def test_two_server_processes_carry_one_conversation(
    sms_app: Flask, sms_settings: Settings, sms_world: SmsWorld, tmp_path: Path
) -> None:
    """Two `intake serve` processes on one database (and Redis when configured), the
    messages of one conversation alternating between them."""
    import base64

    token = sms_settings.twilio_auth_token or ""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(
        INTAKE_DATABASE_URL=sms_settings.database_url,
        INTAKE_PUBLIC_URL=sms_settings.public_url, TWILIO_AUTH_TOKEN=token,
        INTAKE_SECRET_KEY=sms_settings.secret_key.hex(), INTAKE_PEPPER=sms_settings.pepper.hex(),
        INTAKE_COURIER_KEY=base64.urlsafe_b64encode(sms_settings.courier_key or b"").decode(),
    )
    if sms_settings.redis_url:
        environ["INTAKE_REDIS_URL"] = sms_settings.redis_url
    ports = free_ports(2)
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "intake.cli", "serve", "--port", str(port)],
            env={**environ, "INTAKE_INSTANCE": str(tmp_path / f"instance-{port}")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_until_up(port)
        script = ["hello", "MY4821", "3", "The fire door is chained", "#", "2"]
        answers = [post_signed(ports[i % 2], body, token=token, url=sms_settings.public_url)
                   for i, body in enumerate(script)]
        assert re.search(r"\d{4} \d{4} \d{4} \d{4}", answers[-1])
        database: Database = sms_app.extensions["intake.db"]
        with database.transaction() as session:
            report = session.scalars(select(Report)).one()
            assert report.categories == "safety" and len(report.messages) == 1
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)


def wait_until_up(port: int) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server on port {port} did not start")


def post_signed(port: int, body: str, *, token: str, url: str) -> str:
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": "SM" + secrets.token_hex(16), "From": "+60123450000",
              "To": "+60326000100", "Body": body, "NumMedia": "0"}
    signature = RequestValidator(token).compute_signature(url + "/twilio/sms", params)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/twilio/sms", data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our 127.0.0.1
        return response.read().decode()
