"""What every ``intake`` command shares: one-line errors, settings, an up-to-date database."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import SQLAlchemyError

from intake.edge import has_surrogate
from intake.errors import DatabaseNotMigrated, DatabaseUnavailable, IntakeError
from intake.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("intake.cli")


def friendly_errors(function: F) -> F:
    """Turn our own errors into ``Error: <one line>`` and exit code 1, never a traceback."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except DatabaseUnavailable as exc:
            raise click.ClickException(
                f"cannot reach the database named by INTAKE_DATABASE_URL: {exc}"
            ) from None
        except IntakeError as exc:
            raise click.ClickException(str(exc)) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(
                f"database error ({type(exc).__name__}); check INTAKE_DATABASE_URL "
                "and that `intake db upgrade` has run"
            ) from None
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise click.ClickException(
                f"cannot reach Redis named by INTAKE_REDIS_URL: {exc}"
            ) from None

    return wrapper  # type: ignore[return-value]


class Text(click.ParamType[str]):
    """A text option: valid UTF-8 (a shell hands bytes that are not UTF-8 over as lone
    surrogates, which no database or terminal takes), no control characters, surrounding
    spaces removed, not empty, at most ``max_length`` characters (the database column)."""

    name = "text"

    def __init__(self, *, max_length: int) -> None:
        self.max_length = max_length

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        text = str(value)
        if has_surrogate(text):
            self.fail("is not valid UTF-8 text", param, ctx)
        if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in text):
            self.fail("must not hold a line break or control character", param, ctx)
        text = text.strip()
        if not text:
            self.fail("must not be empty", param, ctx)
        if len(text) > self.max_length:
            self.fail(f"must be at most {self.max_length} characters", param, ctx)
        return text


def load_settings() -> Settings:
    return Settings.from_env()


@contextmanager
def database(settings: Settings, *, migrate_embedded: bool) -> Iterator[Any]:
    """A reachable, up-to-date database, or a clear error.

    The embedded SQLite default is migrated on the spot; PostgreSQL never is, because an
    operator should decide when a production schema changes.
    """
    import intake.models  # noqa: F401  (every table, so foreign keys resolve)
    from intake import schema
    from intake.db import Database

    db = Database(settings.database_url)
    try:
        db.ping()
        if not schema.is_current(db.engine):
            if settings.embedded and migrate_embedded:
                schema.upgrade(db.engine)
            else:
                raise DatabaseNotMigrated(
                    "the database schema is not up to date; run `intake db upgrade` first"
                )
        yield db
    finally:
        db.dispose()
