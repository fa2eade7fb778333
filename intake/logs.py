"""Structured logging: one JSON line per event, and one per request with only safe fields.

A request line holds the method, the *route template* (``/<lang>/report``, never the concrete
path or query string), the status and the duration. Never a body, an IP, a user agent or a
phone number: tests plant such values and scan the captured logs.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import Flask, Response, g, request

from intake.machines import every_request

REQUEST_LOGGER = "intake.request"
_SAFE_EXTRA = ("method", "route", "status", "duration_ms", "event", "job", "count")


class JsonFormatter(logging.Formatter):
    """Formats the message and a fixed allow-list of extra fields as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _SAFE_EXTRA:
            if name in record.__dict__:
                payload[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: an exception's message may quote input.
            payload["exc_type"] = record.exc_info[0].__name__
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Route our loggers through the JSON formatter and silence werkzeug's access log."""
    root = logging.getLogger("intake")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    # werkzeug's access log writes the client address and the full URL with its query string.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def install_request_logging(app: Flask) -> None:
    logger = logging.getLogger(REQUEST_LOGGER)

    @app.before_request
    @every_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    @every_request
    def _log_request(response: Response) -> Response:
        started = g.get("request_started", time.perf_counter())
        rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        logger.info(
            "request",
            extra={
                "method": request.method,
                "route": rule,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
