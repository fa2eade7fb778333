"""Production serving under gunicorn, in one place: worker count, timeouts, no access log, the
trusted reverse proxy, and the checks before start. ``ops/gunicorn.conf.py`` re-exports these
values and ``intake serve --production`` runs gunicorn with them, so both agree.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gunicorn.glogging import Logger
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.errors import ConfigError
from intake.settings import Settings

TWILIO_TIMEOUT_SECONDS = 15  # Twilio gives up on a webhook after 15 s and retries
REQUEST_TIMEOUT_SECONDS = 10  # a stuck worker is replaced before Twilio gives up
MAX_WORKERS = 8  # each worker holds its own database pool: 8 x 4 threads stays far below
# PostgreSQL's default max_connections (100) even with two app hosts.
THREADS = 4
DEFAULT_BIND = "127.0.0.1:5000"  # loopback only: nginx (and tor through nginx) in front
DEFAULT_TRUSTED_PROXIES = "127.0.0.1,::1"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def worker_count(environ: Mapping[str, str], *, cpus: int | None) -> int:
    """``INTAKE_WORKERS`` or ``WEB_CONCURRENCY`` if set, else 2 x cores + 1, at most 8."""
    for name in ("INTAKE_WORKERS", "WEB_CONCURRENCY"):
        raw = environ.get(name)
        if raw:
            if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:  # not "²"
                raise ConfigError(f"{name} must be a whole number of worker processes (1 or more)")
            return int(raw)
    return min(2 * (cpus or 1) + 1, MAX_WORKERS)


def trusted_proxies(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Addresses whose ``X-Forwarded-*`` headers are believed: gunicorn's own
    ``FORWARDED_ALLOW_IPS`` (default: loopback, where nginx runs; addresses, not networks,
    as gunicorn accepts them)."""
    raw = environ.get("FORWARDED_ALLOW_IPS") or DEFAULT_TRUSTED_PROXIES
    entries = tuple(part.strip() for part in raw.split(",") if part.strip())
    for entry in entries:
        if entry != "*":
            try:
                ipaddress.ip_address(entry)
            except ValueError:
                raise ConfigError(
                    "FORWARDED_ALLOW_IPS must list the reverse proxy's IP addresses, "
                    "separated by commas (default 127.0.0.1,::1)"
                ) from None
    return entries


def gunicorn_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every gunicorn setting we choose, by gunicorn's own names."""
    env = os.environ if environ is None else environ
    return {
        "bind": [DEFAULT_BIND],
        "workers": worker_count(env, cpus=os.cpu_count()),
        "worker_class": "gthread",
        "threads": THREADS,
        "timeout": REQUEST_TIMEOUT_SECONDS,
        "graceful_timeout": 20,  # a reload (HUP) or stop lets running requests finish
        "keepalive": 5,
        "max_requests": 1000,  # replace workers now and then, staggered by the jitter
        "max_requests_jitter": 100,
        # Each worker builds its own app, database pool and Redis connections after the fork:
        # sockets opened in the master and shared by forked children corrupt each other's
        # protocol state. (A HUP replaces the workers; it does not load new code, because the
        # master has imported much of it already: after an upgrade, restart.)
        "preload_app": False,
        "accesslog": None,  # an access line names the client address and the query string
        "errorlog": "-",
        "loglevel": "warning",
        "logger_class": "intake.serving.PrivateLogger",
        "forwarded_allow_ips": ",".join(trusted_proxies(env)),
        "secure_scheme_headers": {"X-FORWARDED-PROTO": "https"},
        "limit_request_line": 4094,
        "limit_request_fields": 100,
        "proc_name": "intake-web",
    }


def check_production(settings: Settings) -> None:
    """Refuse the embedded default: limits, jobs and schedules would live in each worker's
    memory, and SQLite is one file for one process."""
    if settings.embedded:
        raise ConfigError(
            "production serving needs PostgreSQL: set INTAKE_DATABASE_URL=postgresql+psycopg://..."
        )
    if not settings.redis_url:
        raise ConfigError(
            "production serving needs Redis for rate limits, sessions and jobs shared by every "
            "worker: set INTAKE_REDIS_URL=redis://..."
        )


def preflight(settings: Settings) -> None:
    """Before any worker starts: the production checks, an up-to-date schema, install values.

    Runs in the gunicorn master, whose connections are closed again before it forks.
    """
    from intake.cli_support import database
    from intake.install import ensure_install

    check_production(settings)
    with database(settings, migrate_embedded=False) as db, db.transaction() as session:
        ensure_install(session, settings)


class BehindProxy:
    """Believe ``X-Forwarded-For`` / ``-Proto`` (one hop, werkzeug's ProxyFix) only when the
    connection comes from a trusted proxy; anyone else's headers are ignored.

    Rate limits key on a hash of the client address: without this every worker behind nginx
    would share one bucket (127.0.0.1).
    """

    def __init__(self, app: WsgiApp, *, trusted: Iterable[str]) -> None:
        self.direct = app
        self.proxied = ProxyFix(app, x_for=1, x_proto=1)
        entries = list(trusted)
        self.everyone = "*" in entries
        self.addresses = {ipaddress.ip_address(entry) for entry in entries if entry != "*"}
        # As servers write them ("127.0.0.1", "::1"): the proxy's own address, on every
        # request, is recognised without being parsed.
        self.spelled = frozenset(str(address) for address in self.addresses)

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer`` (an address, or a unix socket's empty name) is a trusted proxy."""
        if self.everyone or peer in self.spelled:
            return True
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return address in self.addresses

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.proxied(environ, start_response)
        return self.direct(environ, start_response)


def production_app(environ: Mapping[str, str] | None = None) -> Any:
    """The app for gunicorn: settings from the environment, behind the trusted proxy."""
    from intake.app import create_app

    app = create_app()
    env = os.environ if environ is None else environ
    app.wsgi_app = BehindProxy(app.wsgi_app, trusted=trusted_proxies(env))  # type: ignore[method-assign]
    return app


_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\b")


class AddressFreeFilter(logging.Filter):
    """gunicorn's error log names the client (``Invalid request from ip=...``) and the
    request URI with its query string (``Error handling request /path?...``): keep the event,
    drop the details."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Invalid request from ip="):
            record.msg, record.args = "Invalid request (details withheld)", ()
        elif message.startswith("Error handling request"):
            record.msg, record.args = "Error handling request", ()
        elif record.args:
            record.msg, record.args = _ADDRESS.sub("[address]", record.getMessage()), ()
        return True


class PrivateLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger with ``AddressFreeFilter`` on its error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.addFilter(AddressFreeFilter())


def run(settings: Settings, *, host: str, port: int) -> None:
    """``intake serve --production``: gunicorn with ``gunicorn_settings()`` on host:port."""
    from gunicorn.app.base import BaseApplication

    preflight(settings)
    options = {**gunicorn_settings(), "bind": [f"{_bracketed(host)}:{port}"]}

    class ProductionServer(BaseApplication):  # type: ignore[misc]
        """gunicorn embedded: our settings, and each worker builds its own app."""

        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return production_app()

    ProductionServer().run()


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
