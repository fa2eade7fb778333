"""Worker pages served to phone browsers: language choice, report, follow-up, leave quickly.

Server-rendered, no JavaScript needed, one small stylesheet, no third-party requests.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the worker pages (found through the ``intake.channels`` entry point)."""
    from channels.web.errors import register_error_pages
    from channels.web.headers import register_worker_headers
    from channels.web.views import web

    app.extensions["intake.csrf"].exempt(web)  # checked in the views, to keep what was typed
    app.register_blueprint(web)
    register_worker_headers(app)
    register_error_pages(app)
