"""Security headers on every response (DESIGN 2; issue 9): no sniffing, no referrer, no
framing, no camera/microphone/geolocation, HSTS when served over HTTPS, and nothing cached
by default. Desk pages (decrypted reports) get a CSP that allows only this site's
stylesheet; the worker pages set their own (``channels.web.headers``); every other answer
(JSON, TwiML, errors) gets a CSP that allows nothing.
"""

from __future__ import annotations

from flask import Flask, Response, request

from intake.ext import settings_of

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

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}  # one pass

        def fill(name: str, value: str) -> None:
            if name.lower() not in present:
                headers.add(name, value)

        for name, value in BASELINE.items():
            fill(name, value)
        if request.blueprint in DESK_BLUEPRINTS:
            headers["Content-Security-Policy"] = DESK_CSP
            headers["Cache-Control"] = "no-store"
        else:
            fill("Content-Security-Policy", NOTHING_CSP)
            if not (request.endpoint or "").endswith("static"):
                fill("Cache-Control", "no-store")
        if request.is_secure or settings_of().public_url.startswith("https://"):
            fill("Strict-Transport-Security", HSTS)
        return response
