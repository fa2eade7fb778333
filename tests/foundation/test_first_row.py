"""``intake.db.first_row``: on PostgreSQL a statement runs on psycopg's own connection, and
must still behave as SQLAlchemy's execution would: the same values, the same exceptions, a
lost connection taken out of the pool."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, exists, insert, literal_column, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from intake.db import Database, first_row, table_of
from intake.messaging.models import Conversation, OptOut, ProcessedInbound
from tests.conftest import ON_POSTGRES, wipe

CONVERSATIONS = table_of(Conversation)
OPT_OUTS = table_of(OptOut)
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="the direct path is PostgreSQL's")


@pytest.fixture
def database(database_url: str, migrated_engine: Engine) -> Iterator[Database]:
    wipe(migrated_engine)
    database = Database(database_url)
    yield database
    database.dispose()
    wipe(migrated_engine)


def conversation(tag: str, **values: object) -> dict[str, object]:
    return {"sender_tag": tag, "inbound_number": "+60326000100", "whatsapp": True,
            "language": "ms", "step": "details", "facility_id": None, "category": "wages",
            "candidate_facility_id": None, "report_id": None, "return_step": None,
            "invalid_answers": 2, "zawgyi": False, "version": 7,
            "updated_at": dt.datetime(2026, 11, 26, 4, 30, tzinfo=dt.UTC), **values}


def test_rows_come_back_as_sqlalchemy_gives_them(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(insert(CONVERSATIONS), [conversation("a"), conversation("b")])
        connection.execute(insert(OPT_OUTS), {"sender_tag": "b"})
    statement = select(
        exists().where(OPT_OUTS.c.sender_tag == bindparam("tag")).label("opted_out"),
        *CONVERSATIONS.columns,
    ).where(CONVERSATIONS.c.sender_tag == bindparam("tag"))
    with database.autocommit.connect() as connection:
        if ON_POSTGRES:  # times come back in the session's zone, unless converted to UTC
            connection.exec_driver_sql("SET TIME ZONE 'Asia/Kuala_Lumpur'")
        for tag in ("a", "b"):
            params = {"tag": tag}
            direct = first_row(connection, statement, params)
            assert params == {"tag": tag}  # the caller's parameters are left alone
            expected = dict(connection.execute(statement, {"tag": tag}).one()._mapping)
            assert direct == expected
            assert direct is not None and direct["opted_out"] is (tag == "b")
            assert direct["updated_at"] == dt.datetime(2026, 11, 26, 4, 30, tzinfo=dt.UTC)
            assert direct["updated_at"].utcoffset() == dt.timedelta(0)
        assert first_row(connection, statement, {"tag": "nobody"}) is None


def test_bound_values_are_converted_as_sqlalchemy_converts_them(database: Database) -> None:
    """A timezone-aware time in another zone is stored as the same instant (UTCDateTime)."""
    kuala_lumpur = dt.timezone(dt.timedelta(hours=8))
    row = conversation("c", updated_at=dt.datetime(2026, 11, 26, 12, 30, tzinfo=kuala_lumpur))
    written = insert(CONVERSATIONS).from_select(
        list(row), select(*[bindparam(key, type_=CONVERSATIONS.c[key].type) for key in row]))
    if ON_POSTGRES:  # one statement that writes and answers, as the webhook's write does
        statement = select(literal_column("1").label("written")).add_cte(written.cte("w"))
        with database.autocommit.connect() as connection:
            assert first_row(connection, statement, row) == {"written": 1}
    else:
        with database.engine.begin() as connection:
            connection.execute(written, row)
    with database.engine.connect() as connection:
        stored = connection.execute(select(CONVERSATIONS.c.updated_at)).scalar_one()
    assert stored == dt.datetime(2026, 11, 26, 4, 30, tzinfo=dt.UTC)


def test_a_naive_time_is_refused_as_sqlalchemy_refuses_it(database: Database) -> None:
    """The column's own conversion runs on the direct path too (UTCDateTime refuses a time
    without a zone, which PostgreSQL would read in the session's zone)."""
    statement = select(bindparam("at", type_=CONVERSATIONS.c.updated_at.type).label("at"))
    with database.autocommit.connect() as connection, \
            pytest.raises((ValueError, StatementError), match="naive datetime"):
        first_row(connection, statement, {"at": dt.datetime(2026, 11, 26, 4, 30)})


@postgres_only
def test_a_driver_error_becomes_sqlalchemys(database: Database) -> None:
    """The webhook tells a replayed MessageSid by SQLAlchemy's IntegrityError."""
    record = {"sid_tag": "t" * 43, "processed_at": dt.datetime.now(dt.UTC),
              "reply_sealed": b"CANARY-PARAMETER"}
    table = table_of(ProcessedInbound)
    statement = select(literal_column("1").label("written")).add_cte(
        insert(table).from_select(list(record), select(
            *[bindparam(key, type_=table.c[key].type) for key in record])).cte("w"))
    with database.autocommit.connect() as connection:
        assert first_row(connection, statement, record) == {"written": 1}
        with pytest.raises(IntegrityError) as raised:
            first_row(connection, statement, record)
        assert "CANARY" not in str(raised.value)  # parameters hidden, as the engines do
        assert first_row(connection, select(literal_column("2").label("n")), {}) == {"n": 2}


@postgres_only
def test_a_lost_connection_is_taken_out_of_the_pool(database: Database) -> None:
    statement = select(literal_column("1").label("one"))
    with database.autocommit.connect() as connection:
        assert first_row(connection, statement, {}) == {"one": 1}
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with database.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with database.autocommit.connect() as connection:  # the pool's only connection: dead
        with pytest.raises(OperationalError) as raised:
            first_row(connection, statement, {})
        assert raised.value.connection_invalidated
    with database.autocommit.connect() as connection:  # a new one
        assert first_row(connection, statement, {}) == {"one": 1}
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid


def test_a_parameter_must_keep_its_name(database: Database) -> None:
    """Parameters are passed to the driver by name: a name SQLAlchemy would have to change
    (it has characters SQL cannot carry) is refused when the statement is first run."""
    statement = select(bindparam("a.b", type_=OPT_OUTS.c.sender_tag.type).label("x"))
    with database.autocommit.connect() as connection:
        if ON_POSTGRES:
            with pytest.raises(ValueError, match="renamed"):
                first_row(connection, statement, {"a.b": "y"})
        else:
            assert first_row(connection, statement, {"a.b": "y"}) == {"x": "y"}
