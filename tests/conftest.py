"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when
``INTAKE_TEST_DATABASE_URL`` is set), optional Redis (``INTAKE_TEST_REDIS_URL``), and an app
built from its own ``Settings`` — no global patching.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from crypto.keys import PrivateKey
from intake import create_app, schema
from intake.db import Base, Database, make_engine
from intake.install import ensure_install
from intake.settings import Settings

TEST_DATABASE_URL = os.environ.get("INTAKE_TEST_DATABASE_URL") or None
TEST_REDIS_URL = os.environ.get("INTAKE_TEST_REDIS_URL") or None
ON_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


def reset_postgres(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'intake-test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """The test database, emptied and migrated from nothing once per run."""
    engine = make_engine(database_url)
    if ON_POSTGRES:
        reset_postgres(engine)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def wipe(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def wipe_redis(url: str) -> None:
    from redis import Redis

    client = Redis.from_url(url)
    for key in client.scan_iter(match="*"):
        client.delete(key)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, migrated_engine: Engine) -> Iterator[Settings]:
    instance = tmp_path / "instance"
    instance.mkdir()
    yield Settings(
        database_url=database_url,
        instance_path=instance,
        secret_key=secrets.token_bytes(32),
        pepper=secrets.token_bytes(32),
        redis_url=TEST_REDIS_URL,
        courier_key=PrivateKey.generate().to_bytes(),
        public_url="https://intake.test",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=secrets.token_hex(16),
        fast_kdf=True,
        testing=True,
    )
    wipe(migrated_engine)
    if TEST_REDIS_URL:
        wipe_redis(TEST_REDIS_URL)


@contextmanager
def running_app(settings: Settings) -> Iterator[Flask]:
    """An app for ``settings`` on an installed database; its jobs drained at the end."""
    app = create_app(settings)
    database: Database = app.extensions["intake.db"]
    with database.transaction() as session:
        ensure_install(session, settings)
    yield app
    app.extensions["intake.jobs"].drain()
    database.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    with running_app(settings) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Database:
    database: Database = app.extensions["intake.db"]
    return database
