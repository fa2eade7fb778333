"""``/healthz`` tells a load balancer whether the database (and Redis) answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flask.testing import FlaskClient

from intake import create_app
from intake.settings import Settings


def test_healthz_is_200_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json is not None and response.json["database"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_is_unreachable(
    settings: Settings, tmp_path: Path
) -> None:
    broken = dataclasses.replace(
        settings, database_url=f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}"
    )
    response = create_app(broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unavailable"} | (
        {"redis": "ok"} if settings.redis_url else {}
    )


def test_healthz_is_503_when_redis_is_configured_but_down(settings: Settings) -> None:
    broken = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    response = create_app(broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json is not None and response.json["redis"] == "unavailable"
