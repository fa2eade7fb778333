"""Security headers for the desk's pages (monitor UI, later the buyer portal and API).

Desk pages show decrypted reports: nothing may be cached, framed, or sent a referrer, and
the CSP allows only this site's stylesheet (no scripts at all).
"""

from __future__ import annotations

from flask import Flask, Response, request

DESK_BLUEPRINTS = frozenset({"auth", "triage", "cases", "alerts", "tokens", "api", "buyer",
                             "dashboards", "remedy", "admin", "verdicts"})
DESK_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def register_desk_headers(app: Flask) -> None:
    @app.after_request
    def _desk_headers(response: Response) -> Response:
        if request.blueprint not in DESK_BLUEPRINTS:
            return response
        response.headers["Content-Security-Policy"] = DESK_CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cache-Control"] = "no-store"
        return response
