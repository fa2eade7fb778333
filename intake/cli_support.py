"""What every ``intake`` command shares: one-line errors, settings, an up-to-date database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

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

    return wrapper  # type: ignore[return-value]


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
