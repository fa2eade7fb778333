"""Fixtures for the SMS channel: the Twilio fake, an app pointed at it, and a phone that
sends correctly signed webhooks."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from intake.db import Database
from intake.settings import Settings
from tests import factories, twilio_fake
from tests.web.conftest import World, world

__all__ = ["world"]

MY_NUMBER = "+60326000100"
MX_NUMBER = "+525550000100"


@pytest.fixture
def twilio() -> Iterator[twilio_fake.TwilioFake]:
    fake, server = twilio_fake.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(settings: Settings, twilio: twilio_fake.TwilioFake) -> Settings:
    """The shared test settings, with Twilio's REST API pointed at the local fake."""
    return dataclasses.replace(settings, twilio_api_base=twilio.url)


@pytest.fixture
def sms_settings(settings: Settings) -> Settings:
    return settings


@pytest.fixture
def sms_app(app: Flask) -> Flask:
    return app


SmsWorld = World


@pytest.fixture
def sms_world(world: World, db: Database) -> World:
    """The web tests' world (desks, facilities, coverage) and our two inbound numbers."""
    with db.transaction() as session:
        factories.sms_number(session, MY_NUMBER, country="MY", language="en")
        factories.sms_number(session, MX_NUMBER, country="MX", language="es")
    return world


RECEIPT = re.compile(r"(\d{4} \d{4} \d{4} \d{4})")  # as the last text of a report shows it


def new_sid() -> str:
    return "SM" + secrets.token_hex(16)


@dataclass
class Phone:
    """A worker's phone: every text becomes a webhook signed as Twilio signs it."""

    client: FlaskClient
    settings: Settings
    number: str = "+60123456789"
    to: str = MY_NUMBER
    whatsapp: bool = False
    sent: list[str] = field(default_factory=list)

    def params(self, body: str, *, sid: str | None = None, **extra: str) -> dict[str, str]:
        sender = f"whatsapp:{self.number}" if self.whatsapp else self.number
        to = f"whatsapp:{self.to}" if self.whatsapp else self.to
        return {"MessageSid": sid or new_sid(), "From": sender, "To": to, "Body": body,
                "NumMedia": "0", "AccountSid": self.settings.twilio_account_sid or "",
                **extra}

    def post(self, params: dict[str, str], *, path: str = "/twilio/sms",
             signature: str | None = None) -> TestResponse:
        url = self.settings.public_url + path
        assert self.settings.twilio_auth_token
        if signature is None:
            signature = RequestValidator(self.settings.twilio_auth_token).compute_signature(
                url, params)
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})

    def text(self, body: str, **extra: str) -> list[str]:
        """Send ``body``; return the texts of the TwiML reply."""
        response = self.post(self.params(body, **extra))
        assert response.status_code == 200, response.get_data(as_text=True)
        return replies(response)


def sent_report(phone: Phone, words: str) -> str:
    """Text a report from the poster code to the receipt (no texts back): the receipt."""
    phone.text("MY4821")
    phone.text("1")
    phone.text(f"{words} #")
    found = RECEIPT.search(phone.text("2")[0])
    assert found, "the last answer gives the receipt"
    return found.group(1)


def replies(response: TestResponse) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(response.get_data(as_text=True))  # noqa: S314 - the app's own TwiML
    return [message.text or "" for message in root.iter("Message")]


@pytest.fixture
def phone(sms_app: Flask, sms_settings: Settings) -> Phone:
    return Phone(sms_app.test_client(), sms_settings)


def run_jobs(app: Flask) -> None:
    """Run what the webhooks queued: the job thread (embedded) or an RQ burst worker."""
    queue = app.extensions["intake.jobs"]
    if hasattr(queue, "queue"):
        from rq import SimpleWorker

        with app.app_context():
            SimpleWorker([queue.queue], connection=queue.queue.connection).work(burst=True)
    else:
        queue.drain()


def say(app: Flask, prompt: object, lang: str = "en", **values: str) -> str:
    """What the conversation says with ``prompt`` in ``lang`` (with ``values`` put in)."""
    with app.test_request_context(), force_locale(lang):
        text = str(prompt)
    return text % values if values else text
