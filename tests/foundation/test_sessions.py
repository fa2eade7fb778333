"""Signed webhooks get no session; every other request keeps Flask-Session's, with its
``regenerate`` (used at sign-in against session fixation)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.sessions import SessionsExceptUnder, without_sessions


@pytest.fixture
def opened(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    interface = app.session_interface
    assert isinstance(interface, SessionsExceptUnder)
    paths: list[str] = []
    real = interface.inner.open_session

    def counting(app_: Flask, request: object) -> object:
        paths.append(request.path)  # type: ignore[attr-defined]
        return real(app_, request)  # type: ignore[arg-type]

    monkeypatch.setattr(interface.inner, "open_session", counting)
    return paths


def test_a_twilio_webhook_opens_no_session(client: FlaskClient, opened: list[str]) -> None:
    response = client.post("/twilio/sms", data={"Body": "hello"})
    assert response.status_code == 403  # unsigned: refused, and no session made for it
    assert opened == []
    assert "Set-Cookie" not in response.headers


def test_other_requests_open_sessions_as_before(client: FlaskClient, opened: list[str]) -> None:
    client.get("/en/")
    client.get("/monitor/login")
    assert opened == ["/en/", "/monitor/login"]


def test_the_wrapped_interface_keeps_flask_sessions_own_methods(app: Flask) -> None:
    interface = app.session_interface
    assert isinstance(interface, SessionsExceptUnder)
    assert interface.regenerate == interface.inner.regenerate  # type: ignore[attr-defined]


def test_only_the_app_s_own_sessions_can_be_narrowed() -> None:
    with pytest.raises(TypeError):
        without_sessions(Flask("other"), "/x/")
