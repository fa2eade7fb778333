"""``intake sms-sim``: a terminal that plays a worker's phone against a running server.

Each line you type becomes an inbound webhook signed exactly as Twilio signs it (with a
fresh MessageSid); each reply is printed with its encoding and SMS segment count. It is how
to try the SMS channel without a Twilio account.
"""

from __future__ import annotations

import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import click
from twilio.request_validator import RequestValidator

from intake.errors import ConfigError
from intake.messaging.segments import count_segments
from intake.settings import Settings

PROMPT = "you> "


def send(*, url: str, sign_url: str, token: str, sender: str, to: str, body: str) -> list[str]:
    """POST one signed inbound message; return the reply texts."""
    params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
              "From": sender, "To": to, "Body": body, "NumMedia": "0"}
    signature = RequestValidator(token).compute_signature(sign_url, params)
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own server
        url, data=urllib.parse.urlencode(params).encode(), method="POST",
        headers={"X-Twilio-Signature": signature,
                 "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - same URL
        root = ET.fromstring(response.read())  # noqa: S314 - TwiML from the operator's server
    return [message.text or "" for message in root.iter("Message")]


def describe(text: str) -> str:
    counted = count_segments(text)
    plural = "segment" if counted.segments == 1 else "segments"
    return f"[{counted.encoding}, {counted.units} units, {counted.segments} {plural}]"


@click.command("sms-sim")
@click.option("--url", default=None, help="Server base URL (default: INTAKE_PUBLIC_URL).")
@click.option("--from", "sender", default="+60123456789", show_default=True,
              help="The worker's number (E.164).")
@click.option("--to", default="+60326000100", show_default=True,
              help="Our inbound number (see `intake demo`).")
@click.option("--whatsapp", is_flag=True, help="Send as a WhatsApp user.")
def command(url: str | None, sender: str, to: str, whatsapp: bool) -> None:
    """Play a worker's phone: type messages, read the replies."""
    settings = Settings.from_env()
    if not settings.twilio_auth_token:
        raise click.ClickException("TWILIO_AUTH_TOKEN is not set, so nothing can be signed")
    base = (url or settings.public_url).rstrip("/")
    if whatsapp:
        sender, to = f"whatsapp:{sender}", f"whatsapp:{to}"
    click.echo(f"Phone {sender} texting {to} at {base}. Ctrl+D to end.")
    for line in _lines():
        try:
            answers = send(url=base + "/twilio/sms",
                           sign_url=settings.public_url + "/twilio/sms",
                           token=settings.twilio_auth_token, sender=sender, to=to, body=line)
        except urllib.error.HTTPError as error:
            raise click.ClickException(f"the server answered {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise click.ClickException(f"cannot reach {base}: {error}") from None
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        if not answers:
            click.echo("(no reply)")
        for answer in answers:
            click.echo(f"phone< {answer}\n       {describe(answer)}")


def _lines() -> Iterator[str]:
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = input(PROMPT) if interactive else sys.stdin.readline()
        except EOFError:
            return
        if not interactive and line == "":
            return
        yield line.rstrip("\n")
