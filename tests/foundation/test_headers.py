"""Every route answers with the security headers, whatever it answers (issue 9, item 1)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from intake.headers import BASELINE, DESK_BLUEPRINTS, DESK_CSP, HSTS

ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <int(max=...):name> too
SAMPLE = {"int": "1", None: "x", "string": "x", "path": "x"}


def url_of(rule: Rule) -> str:
    return ARG.sub(lambda m: SAMPLE.get(m.group(1), "x"), rule.rule)


def every_route(app: Flask) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        routes.append((rule.endpoint, methods[0], url_of(rule)))
    return sorted(routes)


def check(response_headers: dict[str, str], where: str, *, desk: bool) -> None:
    for name, value in BASELINE.items():
        assert response_headers.get(name) == value, f"{where}: {name}"
    csp = response_headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert response_headers.get("Strict-Transport-Security") == HSTS, where  # public URL is https
    if desk:
        assert csp == DESK_CSP, where
        assert response_headers.get("Cache-Control") == "no-store", where


def test_every_route_answers_with_the_security_headers(app: Flask, client: FlaskClient) -> None:
    routes = every_route(app)
    assert len(routes) > 60  # the walk really walks the app
    for endpoint, method, url in routes:
        response = client.open(url, method=method)
        blueprint = endpoint.rpartition(".")[0] if "." in endpoint else None
        check(dict(response.headers), f"{method} {url} ({endpoint})",
              desk=blueprint in DESK_BLUEPRINTS)
        assert response.status_code < 500, f"{method} {url}"


@pytest.mark.parametrize("path", ["/en/no-such-page", "/monitor/no-such-page", "/api/v1/nothing"])
def test_unknown_paths_answer_with_the_headers_too(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    check(dict(response.headers), path, desk=False)


def test_session_cookies_are_secure_httponly_and_strict(client: FlaskClient) -> None:
    page = client.get("/monitor/login")
    cookies = page.headers.getlist("Set-Cookie")
    assert cookies, "the sign-in page starts a session (CSRF)"
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
