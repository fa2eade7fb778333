"""Routes that only other services call (Twilio's signed webhooks), never a browser.

Such a blueprint has no use for what the app does for browsers on every request: CSRF
tokens (the caller signs its requests instead), the per-address page limit and its headers
(the routes count their own callers), a session, the desk's key cookie, the worker pages'
headers. ``serve_machines`` takes all of that off its routes. The app-wide hooks that concern
every answer, whoever asked (the NUL check at the edge, the request log, the security
headers), are marked ``every_request`` and still run (``IntakeFlask.preprocess_request``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask

from intake.limits import counts_itself
from intake.sessions import without_sessions

Hook = TypeVar("Hook", bound=Callable[..., Any])
_EVERY_REQUEST = "_intake_every_request"


def every_request(hook: Hook) -> Hook:
    """Mark an app-wide request hook that must run for machine routes too."""
    setattr(hook, _EVERY_REQUEST, True)
    return hook


def for_every_request(hook: Callable[..., Any]) -> bool:
    return bool(getattr(hook, _EVERY_REQUEST, False))


def serve_machines(app: Flask, blueprint: Blueprint, *, path_prefix: str) -> None:
    """Register ``blueprint``, whose routes (all under ``path_prefix``) only machines call."""
    from intake.app import IntakeFlask  # the app module imports this one

    if not isinstance(app, IntakeFlask):
        raise TypeError("machine routes need the app built by intake.app.create_app")
    app.extensions["intake.csrf"].exempt(blueprint)
    counts_itself(app, blueprint)
    without_sessions(app, path_prefix)
    app.register_blueprint(blueprint)
    app.machine_blueprints = app.machine_blueprints | {blueprint.name}
