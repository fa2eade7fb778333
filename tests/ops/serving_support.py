"""Helpers for the ops tests: free ports, a server process polled with a deadline, the
environment a production process gets, and the repository's ops/ folder."""

from __future__ import annotations

import base64
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from intake.settings import Settings
from tests.procs import free_port, free_ports

__all__ = ["free_port", "free_ports"]

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops"
DEADLINE_SECONDS = 60.0


def clean_environ() -> dict[str, str]:
    """This process's environment without any INTAKE_ or TWILIO_ variable."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("INTAKE_", "TWILIO_", "WEB_CONCURRENCY"))}


def production_environ(settings: Settings) -> dict[str, str]:
    """What /etc/intake/env would hold for a web process on the test database and Redis."""
    environ = clean_environ()
    environ.update(
        INTAKE_DATABASE_URL=settings.database_url,
        INTAKE_REDIS_URL=settings.redis_url or "",
        INTAKE_INSTANCE=str(settings.instance_path),
        INTAKE_SECRET_KEY=settings.secret_key.hex(),
        INTAKE_PEPPER=settings.pepper.hex(),
        INTAKE_COURIER_KEY=base64.urlsafe_b64encode(settings.courier_key or b"").decode(),
        INTAKE_PUBLIC_URL=settings.public_url,
        INTAKE_WORKERS="2",
    )
    return environ


def wait_until(check: Callable[[], bool], *, what: str) -> None:
    """Poll ``check`` until it is true, failing after the deadline (no fixed sleeps)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting: {what}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def response_of(url: str, *, context: ssl.SSLContext | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]] | None:
    """Status and headers of GET ``url`` (redirects not followed), or None if nothing answers."""
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - test URLs on 127.0.0.1
    try:
        with opener.open(request, timeout=5) as response:
            return int(response.status), dict(response.headers)
    except urllib.error.HTTPError as error:
        return int(error.code), dict(error.headers)
    except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError):
        return None


def status_of(url: str, *, context: ssl.SSLContext | None = None) -> int | None:
    answer = response_of(url, context=context)
    return None if answer is None else answer[0]


def children_of(pid: int) -> set[int]:
    """The current child processes of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found.update(int(part) for part in text.split())
    return found


def stop(process: subprocess.Popen[str]) -> str:
    """Terminate ``process`` if it still runs and return everything it printed."""
    if process.poll() is None:
        process.terminate()
    output, _ = process.communicate(timeout=DEADLINE_SECONDS)
    return output
