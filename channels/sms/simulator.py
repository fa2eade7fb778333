"""``intake sms-sim``: a terminal that plays a worker's phone against a running server.

Each line you type becomes an inbound webhook signed exactly as Twilio signs it (with a
fresh MessageSid); each reply is printed with its encoding and SMS segment count. It is how
to try the SMS channel without a Twilio account. A line ``/picture`` (with words after it,
or none) sends a photo as a phone would: Twilio's ``NumMedia`` and a media address, which
the server never fetches.
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

from intake.cli_support import Text, friendly_errors
from intake.edge import has_surrogate
from intake.errors import ConfigError
from intake.messaging.segments import count_segments
from intake.reports.burmese import typed_in_zawgyi
from intake.settings import Settings

PROMPT = "you> "
PICTURE = "/picture"


def send(*, url: str, sign_url: str, token: str, sender: str, to: str, body: str,
         picture: bool = False) -> list[str]:
    """POST one signed inbound message (with a photo if ``picture``); return the replies."""
    sid = "SM" + secrets.token_hex(16)
    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": to,
              "Body": body, "NumMedia": "0"}
    if picture:  # as Twilio describes a photo; the address is never fetched
        params.update(NumMedia="1", MediaContentType0="image/jpeg",
                      MediaUrl0=f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '0' * 32}"
                                f"/Messages/{sid}/Media/ME{secrets.token_hex(16)}")
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
    """Encoding and cost; "Zawgyi" for Burmese spelled for phones that type Zawgyi (what
    the conversation answers once the worker's own words show such a phone)."""
    counted = count_segments(text)
    plural = "segment" if counted.segments == 1 else "segments"
    spelling = ", Zawgyi" if typed_in_zawgyi(text) else ""
    return f"[{counted.encoding}, {counted.units} units, {counted.segments} {plural}{spelling}]"


def _web_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--url``: an http(s) address with a host and a numeric port, in ASCII (urllib's)."""
    if value is None:
        return None
    try:
        parsed = urllib.parse.urlsplit(value)
        port_ok = parsed.port != 0
    except ValueError:  # "[" without "]", or a port that is not a number
        parsed, port_ok = urllib.parse.urlsplit(""), False
    if not (value.isascii() and parsed.scheme in ("http", "https") and parsed.hostname
            and port_ok):
        raise click.BadParameter("must be the server's address, like http://127.0.0.1:5000")
    return value


@click.command("sms-sim")
@click.option("--url", default=None, callback=_web_address,
              help="Server base URL (default: INTAKE_PUBLIC_URL).")
@click.option("--from", "sender", default="+60123456789", show_default=True,
              type=Text(max_length=64), help="The worker's number (E.164).")
@click.option("--to", default="+60326000100", show_default=True, type=Text(max_length=64),
              help="Our inbound number (see `intake demo`).")
@click.option("--whatsapp", is_flag=True, help="Send as a WhatsApp user.")
@friendly_errors
def command(url: str | None, sender: str, to: str, whatsapp: bool) -> None:
    """Play a worker's phone: type messages, read the replies."""
    settings = Settings.from_env()
    if not settings.twilio_auth_token:
        raise click.ClickException("TWILIO_AUTH_TOKEN is not set, so nothing can be signed")
    base = (url or settings.public_url).rstrip("/")
    if whatsapp:
        sender, to = f"whatsapp:{sender}", f"whatsapp:{to}"
    click.echo(f"Phone {sender} texting {to} at {base}. {PICTURE} [words] sends a photo. "
               "Ctrl+D to end.")
    for line in _lines():
        picture = line == PICTURE or line.startswith(PICTURE + " ")
        body = line[len(PICTURE):].strip() if picture else line
        try:
            answers = send(url=base + "/twilio/sms",
                           sign_url=settings.public_url + "/twilio/sms",
                           token=settings.twilio_auth_token, sender=sender, to=to, body=body,
                           picture=picture)
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
        except UnicodeDecodeError:  # stdin decoded strictly
            line = "\udcff"  # refused below, like a line decoded with surrogateescape
        if not interactive and line == "":
            return
        if has_surrogate(line):
            raise click.ClickException("a line of input is not valid UTF-8 text")
        yield line.rstrip("\n")
