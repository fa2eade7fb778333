"""Database engine, sessions and the declarative base shared by every domain's models."""

from __future__ import annotations

import datetime as dt
import functools
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.sql.expression import Select
from sqlalchemy.types import TypeDecorator

from intake.errors import DatabaseUnavailable

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Ids are INTEGER columns (32-bit on PostgreSQL, which refuses even to compare one with a
# larger number): an id taken from a request is checked against this first.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """The table of a mapped class, for Core statements on a hot path."""
    return Base.metadata.tables[model.__tablename__]


def new_id() -> uuid.UUID:
    """Random ids: they reveal neither count nor arrival order of reports."""
    return uuid.uuid4()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return utcnow().date()


def make_engine(url: str, *, autocommit: bool = False) -> Engine:
    """An engine that never puts bound parameters (sealed blobs, tags) in error messages.

    No pre-ping: it costs a round trip on every checkout of the webhook's hot path;
    connections are recycled after 30 minutes instead, and a connection the database
    dropped fails one request (503 from /healthz meanwhile) and is then replaced.
    ``autocommit``: every statement commits itself; such a connection never holds a
    transaction, so it needs no rollback when it goes back to the pool.
    """
    kwargs: dict[str, Any] = {"hide_parameters": True, "pool_recycle": 1800}
    if autocommit:
        kwargs.update(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _create_private_sqlite_file(engine.url.database)
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _create_private_sqlite_file(path: str | None) -> None:
    """SQLite creates its file (and -wal, -shm after it) world-readable; start it at 0600."""
    if not path or path == ":memory:" or os.path.exists(path):
        return
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return  # connecting will fail with a clear "unable to open database file"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """The engine and a request-scoped session, wired into Flask with ``init_app``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # Connections where each statement is its own transaction: a read or a one-statement
        # write on a hot path then costs no BEGIN and COMMIT round trips. A pool of their own,
        # so a checkout need not switch a connection's mode and back.
        self.autocommit = make_engine(url, autocommit=True)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.session = scoped_session(self.session_factory)

    def remove(self, _exc: BaseException | None = None) -> None:
        self.session.remove()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error (nothing half-saved)."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(_short_reason(exc)) from None

    def dispose(self) -> None:
        self.session.remove()
        self.engine.dispose()
        self.autocommit.dispose()


Row = Mapping[str, Any]
_Processor = Callable[[Any], Any]


def first_row(connection: Connection, statement: Select[Any], params: dict[str, Any]
              ) -> Row | None:
    """The first row of ``statement`` as a mapping, or None.

    On PostgreSQL the statement, compiled once by SQLAlchemy, is run on the driver's own
    connection: SQLAlchemy's execution layer costs about 150 µs of CPU a statement, more
    than psycopg's whole round trip, and the SMS webhook runs two statements a message
    (bench/NOTES.md). Types convert as SQLAlchemy would convert them, and a driver error
    becomes SQLAlchemy's exception (``IntegrityError``, ...), with a lost connection
    invalidated in the pool, as SQLAlchemy does. Meant for a connection in autocommit
    mode (``Database.autocommit``): no transaction is begun for it.
    """
    driver = (connection.connection.driver_connection
              if connection.dialect.name == "postgresql" else None)
    if driver is None:  # SQLite (or a connection SQLAlchemy must first re-establish)
        row = connection.execute(statement, params).first()
        return None if row is None else dict(row._mapping)
    sql, binds, columns = _direct(statement, connection.dialect)
    values = dict(params)
    for name, process in binds:
        values[name] = process(values[name])
    cursor = driver.cursor()
    try:
        cursor.execute(sql, values)
        found = cursor.fetchone()
    except driver.Error as exc:
        lost = connection.dialect.is_disconnect(exc, driver, cursor)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, None, exc, driver.Error, hide_parameters=True,
                                  connection_invalidated=lost,
                                  dialect=connection.dialect) from exc
    finally:
        cursor.close()
    if found is None:
        return None
    return {key: value if process is None else process(value)
            for (key, process), value in zip(columns, found, strict=True)}


@functools.cache
def _direct(statement: Select[Any], dialect: Dialect) -> tuple[
        str, tuple[tuple[str, _Processor], ...], tuple[tuple[str, _Processor | None], ...]]:
    """``statement`` compiled for ``dialect``: its SQL, the conversions of its parameters
    and of its columns (SQLAlchemy's, for each bound and selected type)."""
    compiled = statement.compile(dialect=dialect)
    renamed = [bind.key for bind, name in compiled.bind_names.items() if name != bind.key]
    renamed += list(getattr(compiled, "escaped_bind_names", {}))
    if renamed:
        raise ValueError(f"parameters {renamed} are renamed in SQL; name them plainly")
    binds = []
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((name, process))
    columns = tuple((key, column.type.dialect_impl(dialect).result_processor(dialect, None))
                    for key, column in statement.selected_columns.items())
    return compiled.string, tuple(dict(binds).items()), columns


def _short_reason(exc: SQLAlchemyError) -> str:
    """The driver's first line, which names the problem (refused, unknown host, no such db)."""
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    return first[:200]
