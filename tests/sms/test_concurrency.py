"""Messages of one sender handled at the same time (issue 5, items 2 and 9).

The webhook reads the conversation without a lock and writes it only if the version it read
is still there; a message that finds another version keeps nothing of its attempt and is
handled again with the row locked. These tests make two messages overlap at the worst moment
(the second arrives after the first has read the conversation), and make many overlap at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from crypto.envelope import open_sealed
from crypto.hierarchy import TEST_FAST
from intake.db import Database, today
from intake.messaging import inbound, prompts
from intake.messaging.conversation import State
from intake.messaging.models import Conversation, OptOut, ProcessedInbound
from intake.reports.models import Report, ReportMessage
from intake.reports.service import find_by_receipt, message_context
from intake.retention.service import delete_reports, run
from tests.races import until_all_wait, while_retention_deletes
from tests.sms.conftest import MX_NUMBER, RECEIPT, Phone, SmsWorld
from tests.sms.test_conversation import database, say


def same_phone(phone: Phone, app: Flask) -> Phone:
    """The same worker's phone through another connection (as a second process would be)."""
    return dataclasses.replace(phone, client=app.test_client(), sent=[])


def while_reading(monkeypatch: pytest.MonkeyPatch, other: Phone, body: str) -> list[list[str]]:
    """Make ``body`` arrive from ``other`` and be answered in full just after the next
    message has read its conversation (before its turn is handled); its replies are kept."""
    answers: list[list[str]] = []
    real = inbound.take_turn
    calls = 0

    def take_turn(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            worker = threading.Thread(target=lambda: answers.append(other.text(body)))
            worker.start()
            worker.join()
        return real(*args, **kwargs)

    monkeypatch.setattr(inbound, "take_turn", take_turn)
    return answers


def count(db: Database, model: type[Any]) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_state_holds_every_column_of_the_conversation_row() -> None:
    fields = {field.name for field in dataclasses.fields(State)}
    assert fields == set(Conversation.__table__.columns.keys())


def test_two_wrong_answers_at_once_both_count(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn written in one statement (no other table): the later write finds a newer
    version, keeps nothing, and is handled again after the other."""
    db = database(sms_app)
    assert phone.text("MY4821") == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    other = while_reading(monkeypatch, same_phone(phone, sms_app), "x")
    assert phone.text("y") == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    assert other == [[say(sms_app, prompts.CATEGORY_MENU, "en")]]
    with db.transaction() as session:
        assert session.scalars(select(Conversation)).one().invalid_answers == 2
    # so the third wrong answer brings the short help, as it does one message at a time
    assert phone.text("z") == [say(sms_app, prompts.HELP, "en")]
    # one idempotency record per message: the undone attempt left none
    assert count(db, ProcessedInbound) == 4


def test_two_answers_to_the_consent_question_give_one_receipt(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn that writes other tables (the receipt): the undone attempt's receipt is gone,
    and the message is taken as the start of a new conversation."""
    db = database(sms_app)
    phone.text("MY4821")
    phone.text("1")
    assert phone.text("They kept our pay #") == [say(sms_app, prompts.CONSENT, "en")]
    other = while_reading(monkeypatch, same_phone(phone, sms_app), "2")
    assert phone.text("1") == [say(sms_app, prompts.WELCOME, "en")]
    [[receipt_text]] = other
    receipt = RECEIPT.search(receipt_text)
    assert receipt, receipt_text
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        assert not report.contact_consent  # the "2" was answered; the "1" came too late
        assert find_by_receipt(session, receipt.group(1), profile=TEST_FAST)[0].id == report.id
        assert session.scalars(select(Conversation)).one().step == "workplace"
    assert count(db, ProcessedInbound) == 5


def test_stop_between_reading_and_writing_a_first_message_keeps_the_sender_silent(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db = database(sms_app)
    other = while_reading(monkeypatch, same_phone(phone, sms_app), "STOP")
    assert phone.text("hello") == []
    assert other == [[say(sms_app, prompts.STOPPED, "en")]]
    assert count(db, Conversation) == 0
    assert count(db, OptOut) == 1
    assert count(db, ProcessedInbound) == 2


def test_many_words_at_once_are_all_kept_in_order(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """Real contention: ten parts of one report sent at the same moment from ten
    connections. Each is kept once, with its own place in the thread."""
    db = database(sms_app)
    phone.text("MY4821")
    phone.text("1")
    phones = [same_phone(phone, sms_app) for _ in range(10)]
    start = threading.Barrier(len(phones))
    failures: list[BaseException] = []

    def send(index: int) -> None:
        start.wait()
        try:
            assert phones[index].text(f"part {index} of what happened") == []
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        messages = session.scalars(select(ReportMessage).where(
            ReportMessage.report_id == report.id)).all()
        words = sorted(open_sealed(m.body_sealed, sms_world.union.key,
                                   context=message_context(report.id, m.id)).decode()
                       for m in messages)
        assert words == sorted(f"part {i} of what happened" for i in range(10))
        assert sorted(m.seq for m in messages) == list(range(1, 11))


def statements(db: Database) -> tuple[list[str], Callable[[], None]]:
    """Every statement this thread sends (not the job thread's), BEGIN and COMMIT included,
    until the returned function is called.

    Counted at the driver on PostgreSQL: the webhook runs its hot statements on psycopg's
    own connection (``intake.db.first_row``), where SQLAlchemy's events do not see them.
    """
    seen: list[str] = []
    this_thread = threading.get_ident()
    if db.engine.dialect.name != "postgresql":
        def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if threading.get_ident() == this_thread:
                seen.append(statement.split()[0])

        for engine in (db.engine, db.autocommit):
            event.listen(engine, "before_cursor_execute", listen)

        def stop_listening() -> None:
            for engine in (db.engine, db.autocommit):
                event.remove(engine, "before_cursor_execute", listen)

        return seen, stop_listening

    import psycopg
    from psycopg.pq import TransactionStatus

    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit

    def counted_execute(cursor: psycopg.Cursor[Any], query: Any, *args: Any,
                        **kwargs: Any) -> Any:
        if threading.get_ident() == this_thread:
            connection = cursor.connection
            if not connection.autocommit and \
                    connection.info.transaction_status == TransactionStatus.IDLE:
                seen.append("BEGIN")  # psycopg begins a transaction before the statement
            seen.append(str(query).split()[0])
        return execute(cursor, query, *args, **kwargs)

    def counted_commit(connection: psycopg.Connection[Any]) -> None:
        if threading.get_ident() == this_thread and \
                connection.info.transaction_status != TransactionStatus.IDLE:
            seen.append("COMMIT")
        commit(connection)

    psycopg.Cursor.execute = counted_execute  # type: ignore[method-assign]
    psycopg.Connection.commit = counted_commit  # type: ignore[method-assign]

    def stop_counting() -> None:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        psycopg.Connection.commit = commit  # type: ignore[method-assign]

    return seen, stop_counting


def test_a_first_message_costs_two_statements_on_postgresql(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """The read (with the opt-out) and one write of the conversation and both records, each
    its own transaction: no BEGIN or COMMIT round trips. SQLite, which has no data-modifying
    CTEs, writes the three rows in a transaction of their own."""
    db = database(sms_app)
    Phone(sms_app.test_client(), phone.settings, number="+60123000001").text("hello")  # caches
    seen, stop = statements(db)
    try:
        assert phone.text("hello") == [say(sms_app, prompts.WELCOME, "en")]
    finally:
        stop()
    postgres = db.engine.dialect.name == "postgresql"
    assert seen == (["SELECT", "WITH"] if postgres else ["SELECT", "INSERT", "INSERT", "INSERT"])
    if postgres:  # the count would show a transaction's round trips
        seen, stop = statements(db)
        try:
            with db.transaction() as session:
                session.execute(select(func.count()).select_from(Conversation))
        finally:
            stop()
        assert seen == ["BEGIN", "SELECT", "COMMIT"]


def test_a_message_takes_its_senders_row_before_its_report(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """A message handled again after a clash holds the sender's row, then adds to the
    report. One handled the first time must not hold the report while it waits for that row:
    the two would wait for each other (PostgreSQL's deadlock error, the webhook a 500)."""
    db = database(sms_app)
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no row locks to take in turn")
    phone.text("MY4821")
    phone.text("1")
    answers: list[list[str]] = []
    with db.engine.connect() as retry, db.engine.connect() as watch:
        # ``retry`` plays the message handled again: the sender's row locked first
        retry.execute(text("SET LOCAL lock_timeout = '20s'"))
        retry.execute(select(Conversation.sender_tag).with_for_update())
        first = threading.Thread(target=lambda: answers.append(phone.text("part of it")))
        first.start()
        until_all_wait(watch, [first])  # the first-time message waits for a lock
        retry.execute(select(Report.id).with_for_update(key_share=True))  # then its words
        retry.rollback()
    first.join(30)
    assert answers == [[]]


# --- retention deleting the report words are added to ------------------------------------------

PAST_RETENTION = dt.timedelta(days=800)  # the desks keep reports 730 days by default


def conversation_of(db: Database) -> Conversation:
    with db.transaction() as session:
        found = session.scalars(select(Conversation)).one()
        session.expunge(found)
        return found


def test_words_texted_while_retention_deletes_their_report_are_answered_report_gone(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """Retention deletes the report (its time was up) and points the conversation at no
    report while the worker's words arrive: the message, which read the conversation before,
    waits for its row, finds it changed and is handled again. The worker is told the report
    is no longer kept and the words were not added (not a welcome as if nothing had been
    sent, not a 500); the next message begins a new report."""
    db = database(sms_app)
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: retention cannot delete meanwhile")
    phone.text("MY4821")
    phone.text("1")
    answer = while_retention_deletes(db, lambda: phone.text("They hit us."),
                                     today=today() + PAST_RETENTION)
    assert answer == [say(sms_app, prompts.REPORT_GONE, "en")]
    assert count(db, Report) == count(db, ReportMessage) == 0
    assert phone.text("MY4821") == [say(sms_app, prompts.CATEGORY_MENU, "en")]


def test_words_texted_after_retention_deleted_their_report_are_answered_report_gone(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """The same when retention committed before the words arrived, in the worker's language."""
    db = database(sms_app)
    phone.to = MX_NUMBER  # its first language is Spanish
    phone.text("MX2045")
    phone.text("1")
    assert run(db, today=today() + PAST_RETENTION).reports_deleted == 1
    assert conversation_of(db).report_id is None
    assert phone.text("Nos pegan.") == [say(sms_app, prompts.REPORT_GONE, "es")]
    assert count(db, ReportMessage) == 0
    assert phone.text("MX2045") == [say(sms_app, prompts.CATEGORY_MENU, "es")]


def test_retention_leaves_a_report_whose_words_are_being_added_for_its_next_run(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """A message holds its conversation, then waits for its report's row, which retention
    holds (its batch query locks the reports it will delete). Retention then must not wait
    for the conversation (to point it at no report): each would wait for the other
    (PostgreSQL's deadlock error, one of the two a 500 or a failed run). It leaves that
    report for its next run, and the words are added."""
    db = database(sms_app)
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no row locks to take in turn")
    phone.text("MY4821")
    phone.text("1")
    answers: list[list[str]] = []
    with db.transaction() as session:
        # retention's batch query, as it locks the report, before the rest of its batch
        session.execute(select(Report.id).with_for_update())
        words = threading.Thread(target=lambda: answers.append(phone.text("They hit us.")))
        words.start()
        with db.engine.connect() as watch:
            until_all_wait(watch, [words])  # the message waits for the report's row
        deleted = delete_reports(session, today=today() + PAST_RETENTION)
    words.join(30)
    assert (deleted, answers) == (0, [[]])
    assert count(db, ReportMessage) == 1
    assert run(db, today=today() + PAST_RETENTION).reports_deleted == 1


def test_a_run_goes_on_past_a_report_whose_words_are_being_added(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """A report left for the next run (its conversation held by a message) does not end the
    run: the batches after it still delete every other report that is due."""
    db = database(sms_app)
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no row locks to take in turn")
    for number in ("+60123456781", "+60123456782"):
        phone.number = number
        phone.text("MY4821")
        phone.text("1")
    with db.transaction() as session:
        first = session.scalars(select(Report.id).order_by(Report.id)).first()
    with db.engine.connect() as message:  # as a message holds its conversation
        message.execute(select(Conversation.sender_tag).where(Conversation.report_id == first)
                        .with_for_update())
        result = run(db, today=today() + PAST_RETENTION, batch=1)
        message.rollback()
    with db.transaction() as session:
        assert list(session.scalars(select(Report.id))) == [first]
    assert result.reports_deleted == 1
