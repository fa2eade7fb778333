"""Security headers on every response (DESIGN 2; issue 9): no sniffing, no referrer, no
framing, no camera/microphone/geolocation, HSTS when served over HTTPS, and nothing cached
by default. Desk pages (decrypted reports) get a CSP that allows only this site's
stylesheet; the worker pages set their own (``channels.web.headers``); every other answer
(JSON, TwiML, errors) gets a CSP that allows nothing.
"""

from __future__ import annotations

import functools

from flask import Flask, Response, request

from intake.ext import settings_of
from intake.machines import every_request

DESK_BLUEPRINTS = frozenset({"auth", "triage", "cases", "alerts", "tokens", "api", "buyer",
                             "dashboards", "remedy", "admin", "verdicts"})
DESK_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=63072000; includeSubDomains"


def register_security_headers(app: Flask) -> None:
    """Registered before the channels, so it runs after their own hooks (Flask runs
    after-request hooks in reverse order) and only fills in what they did not set."""
    https = settings_of(app).public_url.startswith("https://")

    @app.after_request
    @every_request
    def _security_headers(response: Response) -> Response:
        current = request._get_current_object()  # type: ignore[attr-defined]
        headers = response.headers
        desk = current.blueprint in DESK_BLUEPRINTS
        if desk:
            headers["Content-Security-Policy"] = DESK_CSP
            headers["Cache-Control"] = "no-store"
        static = (current.endpoint or "").endswith("static")
        present = {name.lower() for name, _value in headers}  # one pass
        headers.extend([(name, value) for lower, name, value in
                        _wanted(desk, static, https or current.is_secure)
                        if lower not in present])
        return response


@functools.cache
def _wanted(desk: bool, static: bool, hsts: bool) -> tuple[tuple[str, str, str], ...]:
    """The headers a response gets unless it has set them: (lower-case name, name, value)."""
    wanted = dict(BASELINE)
    if not desk:
        wanted["Content-Security-Policy"] = NOTHING_CSP
        if not static:
            wanted["Cache-Control"] = "no-store"
    if hsts:
        wanted["Strict-Transport-Security"] = HSTS
    return tuple((name.lower(), name, value) for name, value in wanted.items())
