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


class PageLimiter(Limiter):
    """Flask-Limiter, whose per-address page limit (its before-request check) does nothing
    for the blueprints that count their own hits.

    A request filter would do the same, but Flask-Limiter evaluates it after resolving the
    request's limits; the SMS webhook, the busiest route, would pay for that on every
    message (about 130 Python calls, bench/NOTES.md). Decorated limits (``in_middleware``
    False) are never skipped.
    """

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        if in_middleware and request.blueprint in current_app.extensions.get(_SELF_COUNTED, ()):
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


def allowed(name: str, rate: RateLimitItem, key: str) -> bool:
    """Count one hit of ``key`` against ``rate``; False once the window is full.

    Used where a breach must not become an error page: the web form keeps what was typed,
    the SMS webhook answers with silence.
    """
    limiter = current_app.extensions["intake.limiter"]
    return not limiter.enabled or bool(limiter.limiter.hit(rate, name, key))
