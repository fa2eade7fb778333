"""ops/nginx/intake.conf: what it promises on paper (body limit, languages, no logs with
addresses), and, when Debian's nginx is installed, in front of the app on high ports: the
redirect to https, TLS to /healthz, the client's address and https reaching the app, 413 above
the app's body limit, and an onion vhost that serves only the worker pages."""

from __future__ import annotations

import datetime as dt
import http.client
import re
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from intake.app import MAX_BODY_BYTES
from intake.i18n import LANGUAGES
from intake.serving import BehindProxy
from tests.ops.serving_support import OPS, free_ports, wait_until

CONF = OPS / "nginx" / "intake.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (Debian: apt-get install nginx-light); "
    "CI installs it")
SERVER_NAME = "intake.example.org"
CLIENT_ADDRESS = "127.0.0.2"
PLANTED_ADDRESS = "198.51.100.23"


# --- on paper -------------------------------------------------------------------------------

def directive_values(name: str) -> list[str]:
    text = CONF.read_text()
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.MULTILINE)


def test_body_limit_matches_the_apps_limit() -> None:
    assert set(directive_values("client_max_body_size")) == {f"{MAX_BODY_BYTES // 1024}k"}


def test_bodies_are_kept_in_memory_never_in_temp_files() -> None:
    assert set(directive_values("client_body_buffer_size")) == {f"{MAX_BODY_BYTES // 1024}k"}
    assert set(directive_values("proxy_max_temp_file_size")) == {"0"}


def test_every_server_has_its_access_log_off() -> None:
    servers = CONF.read_text().count("\nserver {")
    assert directive_values("access_log") == ["off"] * servers


def test_error_log_is_at_crit_where_nginx_names_no_client() -> None:
    assert {value.split()[-1] for value in directive_values("error_log")} == {"crit"}


def test_client_sent_forwarded_for_is_replaced_not_appended() -> None:
    forwarded = [v for v in directive_values("proxy_set_header") if v.startswith("X-Forwarded-For")]
    assert forwarded and all(v.split()[1] == "$remote_addr" for v in forwarded)


def test_onion_vhost_knows_every_language() -> None:
    match = re.search(r'location ~ "\^/\(([^)]+)\)/', CONF.read_text())
    assert match is not None
    assert set(match.group(1).split("|")) == {language.code for language in LANGUAGES}


def test_only_tls_1_2_and_1_3_are_offered() -> None:
    assert directive_values("ssl_protocols") == ["TLSv1.2 TLSv1.3"]


# --- rendered and run -----------------------------------------------------------------------

@dataclass
class Ports:
    http: int
    https: int
    onion: int
    app: int


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def render(folder: Path, ports: Ports) -> Path:
    """ops/nginx/intake.conf with test ports, paths and certificate, inside a minimal
    nginx.conf that needs no root (one foreground process, everything under ``folder``)."""
    cert, key = self_signed(folder)
    site = CONF.read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{ports.http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{ports.https} ssl http2;",
        "listen 127.0.0.1:8080;": f"listen 127.0.0.1:{ports.onion};",
        "server 127.0.0.1:5000;": f"server 127.0.0.1:{ports.app};",
        f"/etc/letsencrypt/live/{SERVER_NAME}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{SERVER_NAME}/privkey.pem": str(key),
        "/var/log/nginx/intake-error.log": str(folder / "intake-error.log"),
        "/var/www/letsencrypt": str(folder / "www"),
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (folder / "intake.conf").write_text(site)
    (folder / "logs").mkdir()
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"daemon off;\nmaster_process off;\npid {folder / 'nginx.pid'};\n"
                    f"error_log {folder / 'logs' / 'error.log'} crit;\nevents {{}}\n"
                    f"http {{\n{temp}\n    include {folder / 'intake.conf'};\n}}\n")
    return main


def probe_app() -> Flask:
    """Answers what the app would see of the client: its address and the scheme."""
    probe = Flask("probe")

    @probe.get("/")
    def seen() -> str:
        return f"{request.remote_addr} {request.scheme}"

    return probe


@pytest.fixture
def ports() -> Ports:
    http, https, onion, app = free_ports(4)
    return Ports(http=http, https=https, onion=onion, app=app)


@pytest.fixture
def backend(app: Flask, ports: Ports) -> Iterator[None]:
    """The real app (with /probe beside it) behind the trusted-proxy middleware, on a
    werkzeug server in a thread, as gunicorn would serve it."""
    wsgi: Any = BehindProxy(DispatcherMiddleware(app.wsgi_app, {"/probe": probe_app()}),
                            trusted=("127.0.0.1",))
    server = make_server("127.0.0.1", ports.app, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield
    server.shutdown()
    thread.join()


def tls_context(folder: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(folder / "fullchain.pem"))
    context.check_hostname = False  # connecting to 127.0.0.1; the chain is still verified
    return context


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@pytest.fixture
def nginx(tmp_path: Path, ports: Ports, backend: None) -> Iterator[Path]:
    assert NGINX is not None
    config = render(tmp_path, ports)
    process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: process.poll() is not None or fetch(
            tmp_path, ports.https, "/healthz", tls=True) is not None,
            what="nginx to answer")
        assert process.poll() is None, process.communicate()[0]
        yield tmp_path
    finally:
        process.terminate()
        process.communicate(timeout=30)


def fetch(folder: Path, port: int, path: str, *, tls: bool, method: str = "GET",
          body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer | None:
    """One request from CLIENT_ADDRESS, or None when nothing answers yet."""
    connection: http.client.HTTPConnection
    if tls:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                                 source_address=(CLIENT_ADDRESS, 0),
                                                 context=tls_context(folder))
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                                source_address=(CLIENT_ADDRESS, 0))
    try:
        connection.request(method, path, body=body,
                           headers={"Host": SERVER_NAME, **(headers or {})})
        response = connection.getresponse()
        return Answer(response.status, dict(response.headers), response.read())
    except (ConnectionError, ssl.SSLError, TimeoutError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def answer(folder: Path, port: int, path: str, **kwargs: Any) -> Answer:
    result = fetch(folder, port, path, **kwargs)
    assert result is not None, path
    return result


@needs_nginx
def test_nginx_accepts_the_rendered_config(tmp_path: Path, ports: Ports) -> None:
    assert NGINX is not None
    config = render(tmp_path, ports)
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@needs_nginx
def test_http_redirects_to_https(nginx: Path, ports: Ports) -> None:
    result = answer(nginx, ports.http, "/en/report?x=1", tls=False)
    assert result.status == 301
    assert result.headers["Location"] == f"https://{SERVER_NAME}/en/report?x=1"


@needs_nginx
def test_healthz_answers_through_tls(nginx: Path, ports: Ports) -> None:
    result = answer(nginx, ports.https, "/healthz", tls=True)
    assert result.status == 200 and b'"status":"ok"' in result.body.replace(b" ", b"")


@needs_nginx
def test_app_sees_the_clients_address_and_https(nginx: Path, ports: Ports) -> None:
    result = answer(nginx, ports.https, "/probe/", tls=True)
    assert result.body.decode() == f"{CLIENT_ADDRESS} https"


@needs_nginx
def test_a_forwarded_for_sent_by_the_client_is_not_believed(nginx: Path, ports: Ports) -> None:
    result = answer(nginx, ports.https, "/probe/", tls=True,
                    headers={"X-Forwarded-For": PLANTED_ADDRESS})
    assert result.body.decode() == f"{CLIENT_ADDRESS} https"


@needs_nginx
def test_a_body_above_the_apps_limit_is_refused_by_nginx(nginx: Path, ports: Ports) -> None:
    result = answer(nginx, ports.https, "/twilio/sms", tls=True, method="POST",
                    body=b"x" * (MAX_BODY_BYTES + 1),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert result.status == 413
    assert b"<center>nginx</center>" in result.body  # nginx's own page: the app saw nothing


@needs_nginx
def test_nginx_writes_no_line_naming_the_client(nginx: Path, ports: Ports) -> None:
    answer(nginx, ports.https, "/en/report", tls=True)
    answer(nginx, ports.http, "/", tls=False)
    answer(nginx, ports.onion, "/monitor/", tls=False)
    written = "".join(path.read_text() for path in nginx.rglob("*.log"))
    assert CLIENT_ADDRESS not in written


@needs_nginx
@pytest.mark.parametrize("path", ["/", "/report", "/en/", "/es/report", "/ar/followup",
                                  "/static/web/worker.css"])
def test_onion_vhost_serves_the_worker_pages(nginx: Path, ports: Ports, path: str) -> None:
    assert answer(nginx, ports.onion, path, tls=False).status in (200, 302)


@needs_nginx
@pytest.mark.parametrize("path", ["/monitor/login", "/buyer/", "/api/v1/openapi.json",
                                  "/twilio/sms", "/static/monitor.css", "/healthz"])
def test_onion_vhost_refuses_everything_else(nginx: Path, ports: Ports, path: str) -> None:
    assert answer(nginx, ports.onion, path, tls=False).status == 404
