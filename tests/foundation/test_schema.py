"""Migrations build the whole schema from nothing, and models round-trip on both databases."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from intake import schema
from intake.db import Base, Database
from intake.messaging.models import OutboundMessage, OutboundStatus
from intake.models import (
    Author,
    Channel,
    Coverage,
    Desk,
    Facility,
    Report,
    ReportDesk,
    ReportMessage,
)


def test_migrations_create_every_table_of_the_models(migrated_engine: Engine) -> None:
    tables = set(inspect(migrated_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema.current_revision(migrated_engine) == schema.head_revision()


def test_migrations_match_the_models_exactly(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_report_with_sealed_fields_round_trips(db: Database) -> None:
    with db.transaction() as session:
        facility = Facility(name="Test Works", country="MY", poster_code="MY0001")
        desk = Desk(name="Test desk", public_key=b"\x01" * 40, recovery_wrap=b"\x02" * 60)
        session.add_all([facility, desk])
        session.flush()
        session.add(Coverage(desk_id=desk.id, facility_id=facility.id))
        report = Report(
            channel=Channel.SMS,
            language="ms",
            facility_id=facility.id,
            categories="hours,wages",
            receipt_lookup=b"\x03" * 32,
            worker_public_key=b"\x04" * 40,
            body_sealed=bytes(range(256)),
        )
        report.desks.append(ReportDesk(desk_id=desk.id, channel=Channel.SMS, language="ms",
                                       facility_id=facility.id))
        report.messages.append(ReportMessage(seq=1, author=Author.WORKER, body_sealed=b"\x00\xff"))
        session.add(report)
        session.flush()
        report_id = report.id

    with db.transaction() as session:
        stored = session.get(Report, report_id)
        assert stored is not None
        assert stored.body_sealed == bytes(range(256))
        assert stored.channel is Channel.SMS
        assert stored.received_on == dt.datetime.now(dt.UTC).date()
        assert [d.desk_id for d in stored.desks] == [desk.id]
        assert stored.messages[0].body_sealed == b"\x00\xff"
        count = session.scalar(select(Coverage.desk_id).where(Coverage.facility_id == facility.id))
        assert count == desk.id


def test_reports_keep_only_the_day_of_arrival(migrated_engine: Engine) -> None:
    columns = {c["name"]: c for c in inspect(migrated_engine).get_columns("reports")}
    time_columns = [
        name for name, column in columns.items() if "TIME" in str(column["type"]).upper()
    ]
    assert time_columns == []
    assert "DATE" in str(columns["received_on"]["type"]).upper()


def test_texts_held_before_0011_count_their_wait_from_the_day_they_were_queued(
        tmp_path: Path) -> None:
    """Without ``held_at`` they would stay held for good; other texts get none."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(engine, "0010")
    queued = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for status in ("HELD", "SENT"):  # as SQLAlchemy stores the enum: by name
            connection.execute(text(
                "INSERT INTO outbound_messages (id, report_id, kind, status, attempts, "
                "created_at) VALUES (:id, :report, 'reply', :status, 1, :created)"),
                {"id": uuid.uuid4().hex, "report": uuid.uuid4().hex, "status": status,
                 "created": queued})
    schema.upgrade(engine)
    with Session(engine) as session:  # no foreign keys on this engine: no reports needed
        held_since = dict(session.execute(select(OutboundMessage.status,
                                                 OutboundMessage.held_at)).all())
    engine.dispose()
    assert held_since == {OutboundStatus.HELD: queued, OutboundStatus.SENT: None}
