"""Production serving: gunicorn's settings, ``intake serve --production`` refusing the embedded
default, serving, reloading on HUP and stopping on TERM, and no client address in its output."""

from __future__ import annotations

import runpy
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from gunicorn.config import Config
from werkzeug.test import Client

from intake.serving import (
    MAX_WORKERS,
    TWILIO_TIMEOUT_SECONDS,
    AddressFreeFilter,
    BehindProxy,
    gunicorn_settings,
    trusted_proxies,
    worker_count,
)
from intake.settings import Settings
from tests.conftest import ON_POSTGRES, TEST_REDIS_URL
from tests.ops.serving_support import (
    DEADLINE_SECONDS,
    OPS,
    children_of,
    clean_environ,
    free_port,
    production_environ,
    status_of,
    stop,
    wait_until,
)

INTAKE = [sys.executable, "-m", "intake.cli"]
PLANTED_ADDRESS = "198.51.100.23"  # documentation range: must never reach a log line
CLIENT_ADDRESS = "127.0.0.2"  # the test's own connections come from here, not 127.0.0.1
needs_services = pytest.mark.skipif(
    not (ON_POSTGRES and TEST_REDIS_URL),
    reason="production serving needs PostgreSQL and Redis (INTAKE_TEST_DATABASE_URL and "
    "INTAKE_TEST_REDIS_URL); the embedded default is refused by design",
)


def as_gunicorn_reads_them(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` validated and normalised by gunicorn's own Config."""
    config = Config()
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)
    return {name: config.settings[name].get() for name in config.settings}


def conf_file_settings() -> dict[str, Any]:
    """What gunicorn reads from ops/gunicorn.conf.py."""
    return as_gunicorn_reads_them(runpy.run_path(str(OPS / "gunicorn.conf.py")))


# --- the settings ---------------------------------------------------------------------------

def test_request_timeout_is_below_twilios_webhook_timeout() -> None:
    assert conf_file_settings()["timeout"] < TWILIO_TIMEOUT_SECONDS


def test_there_is_no_access_log() -> None:
    assert conf_file_settings()["accesslog"] is None


def test_conf_file_and_serve_production_use_the_same_settings() -> None:
    from_file = conf_file_settings()
    from_file.pop("on_starting")  # the file adds the preflight that serve runs itself
    expected = as_gunicorn_reads_them(gunicorn_settings())
    expected.pop("on_starting")
    assert from_file == expected


def test_each_worker_builds_its_own_app_and_pools() -> None:
    assert conf_file_settings()["preload_app"] is False


def test_threaded_workers_are_used() -> None:
    settings = conf_file_settings()
    assert settings["worker_class"] == "gthread" and settings["threads"] > 1


def test_workers_follow_the_cpu_count_up_to_a_cap() -> None:
    assert worker_count({}, cpus=1) == 3
    assert worker_count({}, cpus=64) == MAX_WORKERS


def test_workers_can_be_set_by_the_environment() -> None:
    assert worker_count({"INTAKE_WORKERS": "3"}, cpus=64) == 3
    assert worker_count({"WEB_CONCURRENCY": "5"}, cpus=1) == 5


@pytest.mark.parametrize("value", ["many", "0", "²"])  # "²" passes str.isdigit
def test_a_bad_worker_count_is_a_config_error(value: str) -> None:
    from intake.errors import ConfigError

    with pytest.raises(ConfigError, match="INTAKE_WORKERS"):
        worker_count({"INTAKE_WORKERS": value}, cpus=2)


def test_the_default_bind_is_loopback_only() -> None:
    assert all(bind.startswith("127.0.0.1:") for bind in conf_file_settings()["bind"])


# --- the trusted proxy ----------------------------------------------------------------------

def remote_addr_app() -> Flask:
    app = Flask("probe")

    @app.get("/")
    def probe() -> str:
        return f"{request.remote_addr} {request.scheme}"

    return app


def seen_by_app(peer: str) -> str:
    app = remote_addr_app()
    app.wsgi_app = BehindProxy(app.wsgi_app, trusted=("127.0.0.1",))  # type: ignore[method-assign]
    response = Client(app).get("/", environ_base={"REMOTE_ADDR": peer}, headers={
        "X-Forwarded-For": PLANTED_ADDRESS, "X-Forwarded-Proto": "https"})
    return response.get_data(as_text=True)


def test_forwarded_client_address_is_believed_from_the_trusted_proxy() -> None:
    assert seen_by_app("127.0.0.1") == f"{PLANTED_ADDRESS} https"


def test_forwarded_headers_from_anyone_else_are_ignored() -> None:
    assert seen_by_app("203.0.113.9") == "203.0.113.9 http"


def test_ipv6_loopback_is_trusted_by_default() -> None:
    proxy = BehindProxy(remote_addr_app().wsgi_app, trusted=trusted_proxies({}))
    assert proxy.trusts("::1") and proxy.trusts("127.0.0.1")
    assert proxy.trusts("0:0:0:0:0:0:0:1")  # another spelling of ::1, recognised by parsing
    assert not proxy.trusts("10.0.0.1") and not proxy.trusts("") and not proxy.trusts(None)


def test_a_bad_trusted_proxy_list_is_a_config_error() -> None:
    from intake.errors import ConfigError

    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS"):
        trusted_proxies({"FORWARDED_ALLOW_IPS": "10.0.0.0/8"})


def test_gunicorn_error_lines_lose_client_addresses_and_uris() -> None:
    import logging

    invalid = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1,
                                f"Invalid request from ip={PLANTED_ADDRESS}: bad line", (), None)
    failed = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1,
                               "Error handling request %s", ("/x?phone=60123456789",), None)
    for record in (invalid, failed):
        AddressFreeFilter().filter(record)
    assert PLANTED_ADDRESS not in invalid.getMessage()
    assert "60123456789" not in failed.getMessage()


# --- refusing the embedded default ----------------------------------------------------------

def run_briefly(args: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=environ, capture_output=True, text=True,
                          timeout=DEADLINE_SECONDS, cwd=OPS.parent)


def assert_one_line(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_serve_production_refuses_the_embedded_database(tmp_path: Path) -> None:
    environ = {**clean_environ(), "INTAKE_INSTANCE": str(tmp_path / "instance")}
    result = run_briefly([*INTAKE, "serve", "--production", "--port", "1"], environ)
    assert_one_line(result, "INTAKE_DATABASE_URL")


def test_serve_production_refuses_to_run_without_redis(tmp_path: Path) -> None:
    environ = {**clean_environ(), "INTAKE_INSTANCE": str(tmp_path / "instance"),
               "INTAKE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = run_briefly([*INTAKE, "serve", "--production", "--port", "1"], environ)
    assert_one_line(result, "INTAKE_REDIS_URL")


def test_documented_gunicorn_command_refuses_the_embedded_database(tmp_path: Path) -> None:
    environ = {**clean_environ(), "INTAKE_INSTANCE": str(tmp_path / "instance")}
    result = run_briefly([sys.executable, "-m", "gunicorn", "-c", "ops/gunicorn.conf.py",
                          "-b", f"127.0.0.1:{free_port()}", "intake.wsgi:app"], environ)
    assert_one_line(result, "INTAKE_DATABASE_URL")


# --- a running production server ------------------------------------------------------------

class Server:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port

    @property
    def healthz(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    def healthy(self) -> bool:
        return status_of(self.healthz) == 200


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [*INTAKE, "serve", "--production", "--host", "127.0.0.1", "--port", str(port)],
        env=production_environ(settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    running = Server(process, port)
    try:
        wait_until(lambda: running.healthy() or process.poll() is not None,
                   what="the production server to answer /healthz")
        yield running
    finally:
        stop(process)


@needs_services
def test_production_server_answers_healthz(server: Server) -> None:
    assert status_of(server.healthz) == 200


@needs_services
def test_hup_replaces_the_workers_and_the_server_keeps_serving(server: Server) -> None:
    before = children_of(server.process.pid)
    assert before
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: bool(children_of(server.process.pid))
               and not children_of(server.process.pid) & before,
               what="new workers after HUP")
    wait_until(server.healthy, what="the reloaded server to answer")
    assert server.process.poll() is None


@needs_services
def test_term_stops_the_server_with_exit_code_0(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=DEADLINE_SECONDS) == 0


def raw_request(port: int, data: bytes) -> None:
    """Send ``data`` from CLIENT_ADDRESS and read the answer (or the closed connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5,
                                  source_address=(CLIENT_ADDRESS, 0)) as connection:
        connection.sendall(data)
        while connection.recv(65536):
            pass


@needs_services
def test_no_client_address_appears_in_the_servers_output(server: Server) -> None:
    raw_request(server.port, b"GET /healthz?phone=60123456789 HTTP/1.1\r\nHost: x\r\n"
                b"X-Forwarded-For: " + PLANTED_ADDRESS.encode() + b"\r\nConnection: close\r\n\r\n")
    raw_request(server.port, b"NOT HTTP AT ALL\r\n\r\n")
    server.process.send_signal(signal.SIGTERM)
    output = stop(server.process)
    assert '"route": "/healthz"' in output  # the request was logged, without its details
    assert "Invalid request (details withheld)" in output  # and so was the bad one
    for secret in (CLIENT_ADDRESS, PLANTED_ADDRESS, "60123456789"):
        assert secret not in output
