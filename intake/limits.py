"""Rate limits on Flask-Limiter's storage (Redis when configured), keyed by pseudonyms only:
the daily rotating tag of the client address, or an SMS sender_tag — never an IP or number.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem

from crypto.pseudonyms import ip_rate_tag
from intake.ext import settings_of


def client_tag() -> str:
    """The keyed, daily-rotating tag of this request's client address (DESIGN 2)."""
    return ip_rate_tag(settings_of().pepper, request.remote_addr or "-", day=dt.date.today())


_SELF_COUNTED = "intake.self_counted"


def counts_itself(app: Flask, blueprint: Blueprint) -> None:
    """The routes of ``blueprint`` count their own hits (per sender_tag, in JSON, ...): the
    per-address page limit is skipped for them before Flask-Limiter resolves any limit."""
    app.extensions.setdefault(_SELF_COUNTED, set()).add(blueprint.name)


def skip_self_counted(app: Flask, limiter: Limiter) -> None:
    names: set[str] = app.extensions.setdefault(_SELF_COUNTED, set())

    @limiter.request_filter
    def _counts_itself() -> bool:
        return request.blueprint in names


def allowed(name: str, rate: RateLimitItem, key: str) -> bool:
    """Count one hit of ``key`` against ``rate``; False once the window is full.

    Used where a breach must not become an error page: the web form keeps what was typed,
    the SMS webhook answers with silence.
    """
    limiter = current_app.extensions["intake.limiter"]
    return not limiter.enabled or bool(limiter.limiter.hit(rate, name, key))
