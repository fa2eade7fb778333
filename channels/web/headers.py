"""Security headers for worker pages: strict CSP, no referrer, no caching, no framing."""

from __future__ import annotations

from flask import Flask, Response, request

WORKER_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def register_worker_headers(app: Flask) -> None:
    @app.after_request
    def _worker_headers(response: Response) -> Response:
        if request.blueprint != "web" and request.endpoint not in (None, "static"):
            return response
        response.headers.setdefault("Content-Security-Policy", WORKER_CSP)
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.endpoint != "web.static":
            response.headers["Cache-Control"] = "no-store"
        return response
