"""Process helpers for tests that run the real servers: start a command in its own process
group, kill the whole group with SIGKILL, wait for ``/healthz`` with a deadline, and a tiny
HTTP client that can speak from any 127.x.y.z address (each simulated client its own
address, so per-address rate limits see many people, as in the field).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

POLL_SECONDS = 0.05


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports nobody listens on. Every probe stays bound until all
    are chosen: closed one by one, the kernel may hand the same port out twice."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def free_port() -> int:
    return free_ports(1)[0]


def loopback_address(index: int) -> str:
    """A distinct 127.x.y.z address for client ``index`` (never 127.0.0.1, the trusted proxy)."""
    return f"127.{10 + index // 62_500}.{index // 250 % 250}.{index % 250 + 1}"


@dataclass
class Service:
    """A command run in its own process group; ``kill`` ends the group at once (SIGKILL)."""

    name: str
    command: Sequence[str]
    environ: Mapping[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self._log = self._log or self.log_path.open("ab")
        self.process = subprocess.Popen(
            list(self.command), env=dict(self.environ), stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL the leader and every process it started (gunicorn's workers too)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_healthy(port: int, *, deadline_seconds: float = 60.0,
                 service: Service | None = None) -> None:
    """Poll ``/healthz`` until it answers 200, or fail after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if service is not None and not service.running():
            raise AssertionError(f"{service.name} exited while starting (see {service.log_path})")
        try:
            if request(port, "GET", "/healthz", timeout=2).status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"nothing healthy on port {port} after {deadline_seconds} s")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    cookies: dict[str, str]


def _send(port: int, method: str, path: str, *, source: str | None,
          form: Mapping[str, str | list[str]] | None, headers: Mapping[str, str] | None,
          timeout: float) -> http.client.HTTPConnection:
    """A connection from ``source`` to 127.0.0.1:port with the request sent on it."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None)
    body = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
    sent = dict(headers or {})
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=sent)
    except BaseException:
        connection.close()
        raise
    return connection


def send_and_hang_up(port: int, method: str, path: str, *, source: str | None = None,
                     form: Mapping[str, str | list[str]] | None = None,
                     headers: Mapping[str, str] | None = None) -> None:
    """Send a request and close the connection without reading the answer, as a client that
    timed out does (Twilio after 15 s, a browser on a dropped 2G link)."""
    with contextlib.suppress(OSError, http.client.HTTPException):
        _send(port, method, path, source=source, form=form, headers=headers,
              timeout=5).close()


def request(port: int, method: str, path: str, *, source: str | None = None,
            form: Mapping[str, str | list[str]] | None = None,
            headers: Mapping[str, str] | None = None, timeout: float = 30.0) -> Answer:
    """One HTTP request to 127.0.0.1:port, sent from ``source``; raises OSError or
    http.client.HTTPException when the server is gone."""
    connection = _send(port, method, path, source=source, form=form, headers=headers,
                       timeout=timeout)
    try:
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        cookies = {}
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, text, cookies)
    finally:
        connection.close()
