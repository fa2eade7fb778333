"""Server-side sessions (Flask-Session), and the paths that never get one.

A signed webhook (Twilio's) carries no cookie and signs no one in: Flask-Session would still
make each of its requests a session with a fresh random id, only to throw it away. Requests
under a path registered with ``without_sessions`` get Flask's null session instead (empty;
writing to it is an error), and nothing is saved for them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin


class SessionsExceptUnder(SessionInterface):
    """Flask-Session's interface for every request, except those under ``prefixes``.

    Everything else (``regenerate`` at sign-in, the id's length, ...) is the wrapped
    interface's own.
    """

    def __init__(self, inner: SessionInterface) -> None:
        self.inner = inner
        self.prefixes: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if self.prefixes and request.path.startswith(self.prefixes):
            return None  # Flask then uses its null session
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not self.is_null_session(session):
            self.inner.save_session(app, session, response)


def without_sessions(app: Flask, prefix: str) -> None:
    """Requests whose path starts with ``prefix`` get no session."""
    interface = app.session_interface
    if not isinstance(interface, SessionsExceptUnder):
        raise TypeError("the app's sessions were not set up by intake.app")
    interface.prefixes = (*interface.prefixes, prefix)
