"""A stand-in for Twilio's REST API on 127.0.0.1 that records every call it gets.

It answers message creation, listing (newest first, filtered by To, From and DateSent<) and
deletion as Twilio does, and can be told to fail the next calls with a status (500 to test
retries, or Twilio's 21610 opt-out refusal).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    form: dict[str, str]
    raw: bytes


@dataclass
class TwilioFake:
    calls: list[Call] = field(default_factory=list)
    # (status, code, method): the next requests answered with an error; a method of None
    # fails the next request whatever its method
    failures: list[tuple[int, int | None, str | None]] = field(default_factory=list)
    url: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)  # what Twilio now keeps

    def fail_next(self, times: int = 1, *, status: int = 500, code: int | None = None,
                  method: str | None = None) -> None:
        self.failures.extend([(status, code, method)] * times)

    def created(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("Messages.json")]

    def deleted(self) -> list[Call]:
        return [c for c in self.calls if c.method == "DELETE"]


def start() -> tuple[TwilioFake, ThreadingHTTPServer]:
    fake = TwilioFake()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            return None

        def _record(self) -> Call:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            call = Call(self.command, self.path, form, raw)
            with lock:
                fake.calls.append(call)
            return call

        def _failure(self) -> bool:
            with lock:
                found = next((i for i, (_status, _code, method) in enumerate(fake.failures)
                              if method in (None, self.command)), None)
                if found is None:
                    return False
                status, code, _method = fake.failures.pop(found)
            body = {"status": status, "message": "fake failure", "code": code or status}
            self._send(status, body)
            return True

        def _send(self, status: int, body: dict[str, object] | None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            call = self._record()
            if self._failure():
                return
            now = format_datetime(dt.datetime.now(dt.UTC))
            message = {"sid": "SM" + secrets.token_hex(16), "status": "queued",
                       "to": call.form.get("To", ""), "from": call.form.get("From", ""),
                       "body": call.form.get("Body", ""), "account_sid": "AC" + "0" * 32,
                       "date_created": now, "date_sent": now}
            with lock:
                fake.messages.append(message)
            self._send(201, message)

        def do_GET(self) -> None:
            self._record()
            if self._failure():
                return
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            sent_before = query.get("DateSent<")
            with lock:
                found = [m for m in reversed(fake.messages)
                         if m["to"] == query.get("To", m["to"])
                         and m["from"] == query.get("From", m["from"])
                         and (sent_before is None
                              or parsedate_to_datetime(m["date_sent"]) < dt.datetime.strptime(
                                  sent_before, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC))]
            self._send(200, {"messages": found, "page": 0, "page_size": len(found) or 50,
                             "next_page_uri": None, "first_page_uri": self.path,
                             "previous_page_uri": None, "uri": self.path})

        def do_DELETE(self) -> None:
            self._record()
            if self._failure():
                return
            self._send(204, None)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
