"""Error pages in the worker's language: unknown page or language, too large, too many tries."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from channels.web import zawgyi
from intake.i18n import BY_CODE, negotiate

_WORKER_ERRORS = (400, 404, 405, 413, 429)


def register_error_pages(app: Flask) -> None:
    for code in _WORKER_ERRORS:
        app.register_error_handler(code, _error_page)


def _error_page(error: HTTPException) -> ResponseReturnValue:
    if request.path.startswith(("/api/", "/twilio/", "/healthz")):
        return {"error": error.name}, error.code or 500
    if not g.get("lang"):
        # /<lang>/anything-unknown: the prefix says the language; otherwise the browser does.
        prefix = zawgyi.enter(request.path.strip("/").split("/", 1)[0])
        g.lang = prefix if prefix in BY_CODE else negotiate(request.headers.get("Accept-Language"))
    code = error.code or 500
    return render_template("web/error.html", code=code, lang=BY_CODE[g.lang]), code
