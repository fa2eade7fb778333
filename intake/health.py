"""``/healthz``: 200 when the database (and Redis, when configured) answer, else 503."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from intake.errors import DatabaseUnavailable
from intake.ext import database_of, settings_of

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        database_of(current_app).ping()
        checks["database"] = "ok"
    except DatabaseUnavailable:
        checks["database"] = "unavailable"
    settings = settings_of(current_app)
    if settings.redis_url:
        checks["redis"] = "ok" if _redis_answers(settings.redis_url) else "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks}
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _redis_answers(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        return bool(client.ping())
    except RedisError:
        return False
