"""The SMS / WhatsApp conversation of DESIGN 5.2, one inbound message at a time.

State is kept per ``sender_tag`` (a keyed hash of the number, never the number) in the
database, so any app process can take the next message. Words are sealed to the report's
desks the moment they arrive; the conversation row holds no plaintext.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale, pgettext
from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from crypto.errors import MalformedReceipt
from crypto.hierarchy import Argon2Profile
from crypto.pseudonyms import sender_tag
from crypto.receipts import format_receipt
from intake.accounts.models import SmsNumber
from intake.db import Database, first_row, table_of
from intake.i18n import DEFAULT, LANGUAGES, language_label, written_in
from intake.messaging import prompts
from intake.messaging.models import Conversation, OptOut, OutboundMessage, OutboundStatus
from intake.messaging.outbound import NOTICE_WAIT
from intake.messaging.segments import count_segments
from intake.remedy.models import Verdict
from intake.remedy.verdicts import question_text
from intake.reports.burmese import spelled_for, typed_in_zawgyi, zawgyi_spelling
from intake.reports.categories import CATEGORIES
from intake.reports.models import Author, Channel, Report
from intake.reports.service import (
    MAX_COMMENT_CHARS,
    MAX_MESSAGE_CHARS,
    NoDeskAvailable,
    ReceiptNotFound,
    ReportGone,
    ReportRejected,
    add_worker_message,
    attach_contact,
    find_by_receipt,
    issue_receipt,
    open_report,
    record_verdict,
    set_categories,
    thread_for,
)
from intake.supplychain import service as facilities
from intake.supplychain.service import Workplace

log = logging.getLogger("intake.sms")

IDLE_TIMEOUT = dt.timedelta(hours=4)
# A worker asked whether the problem was fixed may answer days later (a shift pattern, no
# credit): the verdict step waits two weeks; the web follow-up page asks until the case closes.
# So does the answer step, after a text from the desk.
VERDICT_TIMEOUT = dt.timedelta(days=14)
MAX_BODY_CHARS = 1600
HELP_AFTER_INVALID = 2
LANGUAGE_PAGE = 7
CONFIRM_SCORE = 60
STATUS_MAX = {"GSM-7": 300, "UCS-2": 125}

# Steps of the conversation.
WORKPLACE, CONFIRM, CATEGORY, DETAILS, CONSENT, LANGUAGE, LANGUAGE_2, VERDICT, ANSWER = (
    "workplace", "confirm", "category", "details", "consent", "language", "language2",
    "verdict", "answer",
)
WINDOW = "window"  # WhatsApp's notice was sent: the next message releases the held texts
_WAITING = (VERDICT, ANSWER, WINDOW)  # steps that wait for the answer to a text we sent


@dataclass(frozen=True)
class Inbound:
    """One inbound message as the channel parsed it; ``sender`` is E.164 and never stored."""

    sender: str = field(repr=False)
    to: str
    body: str = field(repr=False)
    whatsapp: bool = False
    media_count: int = 0
    button: bool = False  # a tap on a WhatsApp template's button (Twilio's ButtonPayload)


@dataclass(frozen=True)
class Outcome:
    replies: list[str] = field(default_factory=list, repr=False)
    language: str = DEFAULT
    forget_sender: str | None = None  # a sender_tag whose sealed numbers must be forgotten
    # The sender_tag whose held texts go out now (their WhatsApp window is open): the caller
    # enqueues ``RELEASE_JOB`` for it.
    release_for: str | None = None


@dataclass(slots=True)
class State:
    """A conversation row while a message is handled: a plain copy of the columns of
    ``Conversation`` (an ORM object would cost the hot path its attribute instrumentation)."""

    sender_tag: str
    inbound_number: str
    whatsapp: bool
    language: str
    step: str
    updated_at: dt.datetime
    facility_id: int | None = None
    category: str | None = None
    candidate_facility_id: int | None = None
    report_id: uuid.UUID | None = None
    return_step: str | None = None
    invalid_answers: int = 0
    zawgyi: bool = False
    version: int = 0


@dataclass
class Turn:
    """What one message needs while it is handled (not stored).

    The session is opened when a step first asks for it: most steps need no table but the
    conversation's, and their turn is written without one (``store_alone``).
    """

    open_session: Callable[[], Session]
    inbound: Inbound
    tag: str
    conversation: State
    profile: Argon2Profile
    now: dt.datetime
    replies: list[str] = field(default_factory=list)
    forget: bool = False
    release: bool = False  # the sender's held texts go out (``Outcome.release_for``)
    opened: Session | None = None

    @property
    def session(self) -> Session:
        if self.opened is None:
            self.opened = self.open_session()
        return self.opened

    def used_database(self) -> bool:
        """Whether a step read or wrote a table through the session (or left objects in it
        that are still to be written)."""
        session = self.opened
        return session is not None and (session.in_transaction() or bool(
            session.new or session.dirty or session.deleted))

    def say(self, text: str) -> None:
        self.replies.append(text)


class Conflict(Exception):
    """Another message of the same sender changed its conversation after this one read it:
    nothing of this attempt is kept, and the message is handled again from the start."""


@dataclass(frozen=True)
class Loaded:
    """A sender's conversation as read before a turn (no lock is held while it is handled)."""

    tag: str
    conversation: State
    version: int | None  # the row's version; None: no row yet (a new conversation)
    opted_out: bool  # the sender had said STOP when the row was read

    @property
    def is_new(self) -> bool:
        return self.version is None


def handle(
    session: Session, inbound: Inbound, *, pepper: bytes, profile: Argon2Profile,
    now: dt.datetime | None = None,
) -> Outcome:
    """Advance the sender's conversation by one message, in the caller's transaction, with
    its row locked until the caller commits, and say what to answer."""
    now = now or dt.datetime.now(dt.UTC)
    loaded = load(session.connection(), sender_tag(pepper, inbound.sender), inbound, now,
                  lock=True)
    turn = Turn(lambda: session, inbound, loaded.tag, loaded.conversation, profile, now)
    take_turn(turn)
    return outcome_of(turn, silent=store(session, turn, loaded))


def load(connection: Connection, tag: str, inbound: Inbound, now: dt.datetime, *,
         lock: bool = False) -> Loaded:
    """The sender's conversation, read in one statement with whether they said STOP.

    ``lock``: the row stays locked until the connection's transaction ends (no other
    message of the sender can change it meanwhile); whether they said STOP is then not read
    (``store`` checks it in that transaction). One idle for too long is deleted (unless
    another message changed it meanwhile) and a new one begins: words already sent stay
    with their report.
    """
    language = _number_language(connection, inbound.to, now)
    zawgyi = False
    if lock:
        if connection.dialect.name == "sqlite":  # no row locks: take the database's write lock
            connection.execute(_TOUCH, {"tag": tag})
        found = connection.execute(_READ_LOCKED, {"tag": tag}).first()
        row: Mapping[str, Any] | None = dict(found._mapping) if found else None
        opted_out = False
    else:
        row = first_row(connection, _READ, {"tag": tag})  # always one row (an outer join)
        opted_out = bool(row and row["opted_out"])
    if row is not None and row["sender_tag"] is not None:
        conversation = State(**{key: row[key] for key in _COLUMNS})
        if not _expired(conversation, now):
            return Loaded(tag, conversation, conversation.version, opted_out)
        if not _apply(connection, "delete", {"tag": tag, "old_version": conversation.version}):
            raise Conflict
        # How the phone spells Burmese outlives the conversation: a worker who texts STATUS
        # weeks later, in English, still reads the answer in the spelling their phone shows.
        zawgyi = conversation.zawgyi
    return Loaded(tag, State(
        sender_tag=tag, inbound_number=inbound.to, whatsapp=inbound.whatsapp,
        language=language, step="new", invalid_answers=0, updated_at=now, version=0,
        zawgyi=zawgyi,
    ), None, opted_out)


def take_turn(turn: Turn) -> None:
    """Handle the message against the conversation as loaded (``turn.conversation`` is
    changed in place). Burmese in the message tells how the worker's phone spells it: the
    answers from now on are spelled that way (``outcome_of``)."""
    zawgyi = typed_in_zawgyi(turn.inbound.body)
    if zawgyi is not None:
        turn.conversation.zawgyi = zawgyi
    if turn.conversation.step == "new":
        # A first message is answered in the language its letters show, if they show one
        # (Thai, Burmese, Chinese, Bengali, Arabic, Vietnamese): a migrant worker writes to
        # the number of the country they work in, whose language they may not read.
        turn.conversation.language = written_in(turn.inbound.body) or turn.conversation.language
    waiting = turn.conversation.step == WINDOW
    with force_locale(turn.conversation.language):
        _dispatch(turn)
    if not (waiting and turn.conversation.step == WINDOW):
        # WhatsApp's notice is waited for from when it was sent, as its held texts are
        # (``expire_held``): words by SMS meanwhile, kept as they are, do not keep the
        # worker's conversation waiting after the texts have been given up.
        turn.conversation.updated_at = turn.now


def outcome_of(turn: Turn, *, silent: bool) -> Outcome:
    zawgyi = turn.conversation.zawgyi
    return Outcome(replies=[] if silent else [spelled_for(r, zawgyi=zawgyi)
                                              for r in turn.replies if r],
                   language=turn.conversation.language,
                   forget_sender=turn.tag if turn.forget else None,
                   release_for=turn.tag if turn.release else None)


_NUMBERS: dict[str, tuple[str | None, dt.datetime]] = {}
NUMBER_CACHE = dt.timedelta(minutes=1)
_NUMBER_LANGUAGE = select(table_of(SmsNumber).c.default_language).where(
    table_of(SmsNumber).c.number == bindparam("number"))


def _number_language(connection: Connection, to: str, now: dt.datetime) -> str:
    """The first language of one of our inbound numbers (configuration: cached a minute)."""
    cached = _NUMBERS.get(to)
    if cached is None or now - cached[1] > NUMBER_CACHE:
        cached = (connection.execute(_NUMBER_LANGUAGE, {"number": to}).scalar(), now)
        _NUMBERS[to] = cached
    if cached[0] is None:
        log.warning("inbound SMS to a number that is not configured", extra={"event": "config"})
    return cached[0] or DEFAULT


# The conversation row is read and written by prepared Core statements, never tracked by the
# ORM session: it is on the webhook's hot path, where the ORM's unit of work and statement
# building cost more CPU than the rest of the message (bench/sms.py); a row is held as a
# ``State`` while a turn is handled.
#
# The webhook holds no row lock while a turn is handled. Each write names the version it
# read, and a write that finds another version changes nothing (``Conflict``): the message is
# then handled again, with the row locked (``handle``), against the new state. A turn that
# needs no other table (most of them: menus, answers, the first message) is written with its
# companions (the idempotency and deletion records) in a single statement on PostgreSQL: two
# round trips for the whole message.
_TABLE = table_of(Conversation)
_OPT_OUTS = table_of(OptOut)
_COLUMNS = [column.key for column in _TABLE.columns]
_BY_TAG = _TABLE.c.sender_tag == bindparam("tag")
_SAME_VERSION = _TABLE.c.version == bindparam("old_version")
_READ = select(
    exists().where(_OPT_OUTS.c.sender_tag == bindparam("tag")).label("opted_out"),
    *_TABLE.columns,
).select_from(select(literal_column("1").label("one")).subquery().outerjoin(_TABLE, _BY_TAG))
_READ_LOCKED = select(_TABLE).where(_BY_TAG).with_for_update()
_HOLD = select(_TABLE.c.version).where(_BY_TAG, _SAME_VERSION).with_for_update()
_TOUCH = update(_TABLE).where(_BY_TAG).values(version=_TABLE.c.version)
_WRITES: dict[str, Any] = {
    "delete": delete(_TABLE).where(_BY_TAG, _SAME_VERSION),
    "update": update(_TABLE).where(_BY_TAG, _SAME_VERSION).values(
        {column: bindparam(f"v_{column.key}", type_=column.type) for column in _TABLE.columns}),
    # A new conversation is kept only for a sender who has not said STOP.
    "insert": insert(_TABLE).from_select(_COLUMNS, select(
        *[bindparam(f"v_{column.key}", type_=column.type) for column in _TABLE.columns]
    ).where(~exists().where(_OPT_OUTS.c.sender_tag == bindparam("v_sender_tag")))),
}
# SQLAlchemy reports an INSERT's rowcount only when asked to keep it.
_KEEP_ROWCOUNT = {"preserve_rowcount": True}

Companion = tuple[Table, dict[str, object]]


def _change(turn: Turn, loaded: Loaded) -> tuple[str, dict[str, object]]:
    """How the row changes ("insert", "update", "delete" or "none") and the parameters."""
    conversation = turn.conversation
    finished = conversation.step == "finished"
    if loaded.is_new:
        mode = "none" if finished else "insert"
    else:
        mode = "delete" if finished else "update"
    conversation.version = 0 if loaded.version is None else loaded.version + 1
    return mode, {"tag": turn.tag, "old_version": loaded.version,
                  **{f"v_{key}": getattr(conversation, key) for key in _COLUMNS}}


def _apply(connection: Connection, mode: str, params: dict[str, object]) -> bool:
    """Write the row; False if nothing was written (another version, or the sender said
    STOP before a new conversation could be kept)."""
    if mode == "none":
        return True
    return bool(connection.execute(_WRITES[mode], params,
                                   execution_options=_KEEP_ROWCOUNT).rowcount)


def hold(session: Session, loaded: Loaded) -> None:
    """Lock the row as it was read, before a turn without the lock touches another table.

    Every message takes the sender's row before the rows its turn writes (a report's
    thread, a receipt), as ``handle`` does: a turn that locked its report first and then
    waited for the row would deadlock with one that holds the row and waits for the report.
    ``Conflict`` if another message changed the row since it was read.
    """
    if loaded.is_new:
        return  # no row yet: nothing another message could hold
    found = session.connection().execute(_HOLD, {"tag": loaded.tag,
                                                 "old_version": loaded.version}).first()
    if found is None:
        raise Conflict


def store(session: Session, turn: Turn, loaded: Loaded) -> bool:
    """Write the conversation's new state in the session's transaction, after what the turn
    wrote itself; True if the sender has opted out (say nothing).

    Only a new conversation needs the opt-out check, made after the message (START may just
    have lifted it): a conversation is kept only for senders who have not said STOP.
    """
    session.flush()  # what the turn made through the ORM first (a report the row points at)
    mode, params = _change(turn, loaded)
    if mode == "none":
        return not turn.forget and _opted_out(session, turn.tag)
    written = _apply(session.connection(), mode, params)
    if mode == "insert":
        return not written
    if not written:
        raise Conflict
    return False


def store_alone(database: Database, connection: Connection, turn: Turn, loaded: Loaded,
                companions: list[Companion]) -> None:
    """Write the state of a turn that used no other table, with ``companions`` (rows written
    only together with it), in one transaction of its own: one statement on PostgreSQL, on
    ``connection`` (from ``database.autocommit``, where ``loaded`` was read).

    The turn was handled as for a sender who had (or had not) said STOP when the row was
    read; a STOP since then makes the new conversation unwritable, hence a ``Conflict``.
    """
    mode, params = _change(turn, loaded)
    if mode == "insert" and loaded.opted_out:
        mode = "none"  # a sender who said STOP gets no conversation (and no answer)
    if database.engine.dialect.name == "postgresql":
        tables = tuple(table for table, _values in companions)
        for index, (_table, values) in enumerate(companions):
            params.update({f"k{index}_{key}": value for key, value in values.items()})
        written = first_row(connection, _together(mode, tables), params)
        if written is None or not written["written"]:
            raise Conflict
        return
    with database.engine.begin() as transaction:  # SQLite: no data-modifying CTEs
        if not _apply(transaction, mode, params):
            raise Conflict  # rolls back
        for table, values in companions:
            transaction.execute(insert(table), values)


@functools.cache
def _together(mode: str, tables: tuple[Table, ...]) -> Select[Any]:
    """One PostgreSQL statement: the row's write and, only if it wrote, the companion rows
    (data-modifying CTEs); it answers the number of conversation rows written (1 or 0)."""
    gate = None
    statement: Select[Any]
    if mode == "none":
        statement = select(literal_column("1").label("written"))
    else:
        written = _WRITES[mode].returning(literal_column("1")).cte("written")
        statement = select(func.count().label("written")).select_from(written)
        gate = exists().select_from(written)
    for index, table in enumerate(tables):
        row = select(*[bindparam(f"k{index}_{column.key}", type_=column.type)
                       for column in table.columns])
        statement = statement.add_cte(insert(table).from_select(
            [column.key for column in table.columns],
            row if gate is None else row.where(gate)).cte(f"companion_{index}"))
    return statement


def _opted_out(session: Session, tag: str) -> bool:
    with session.no_autoflush:
        return session.scalar(select(OptOut.sender_tag).where(OptOut.sender_tag == tag)) is not None


def _expired(conversation: State | Conversation, now: dt.datetime) -> bool:
    step = conversation.step
    timeout = (IDLE_TIMEOUT if step not in _WAITING
               else NOTICE_WAIT if step == WINDOW else VERDICT_TIMEOUT)
    return now - conversation.updated_at > timeout


def await_verdict(session: Session, *, tag: str, report_id: uuid.UUID, inbound_number: str,
                  language: str, now: dt.datetime, zawgyi: bool = False,
                  whatsapp: bool = False) -> bool:
    """Make the sender's next message the answer to "was the problem fixed?" for a report.

    Called by the job that texts the question (it alone can compute the sender's tag). A
    conversation in the middle of a new report is left alone (False): that worker answers
    on the follow-up page, or after finishing, when asked again by the desk. ``zawgyi``: the
    worker's phone types Burmese in Zawgyi (as kept with their number); ``whatsapp``: the
    question went to them on WhatsApp.
    """
    return _await(session, VERDICT, tag=tag, report_id=report_id,
                  inbound_number=inbound_number, language=language, now=now, zawgyi=zawgyi,
                  whatsapp=whatsapp)


def await_answer(session: Session, *, tag: str, report_id: uuid.UUID, inbound_number: str,
                 language: str, now: dt.datetime, zawgyi: bool = False,
                 whatsapp: bool = False) -> bool:
    """After a text from the desk: the sender's next messages are added to that report
    (``_answer``), as a worker answers a question by replying to it. A conversation in the
    middle of a new report, or waiting for a verdict, is left alone (False)."""
    return _await(session, ANSWER, tag=tag, report_id=report_id,
                  inbound_number=inbound_number, language=language, now=now, zawgyi=zawgyi,
                  whatsapp=whatsapp)


def await_window(session: Session, *, tag: str, report_id: uuid.UUID, inbound_number: str,
                 language: str, now: dt.datetime, zawgyi: bool = False) -> bool:
    """After WhatsApp's notice (sent because WhatsApp refused a held text of this report):
    the sender's next message releases their held texts (``_dispatch``). Called by the
    job that sends the notice. A conversation in the middle of a new report is left alone
    (False): that worker is writing to us now, so the window is open already."""
    return _await(session, WINDOW, tag=tag, report_id=report_id,
                  inbound_number=inbound_number, language=language, now=now, zawgyi=zawgyi,
                  whatsapp=True)


def _await(session: Session, step: str, *, tag: str, report_id: uuid.UUID,
           inbound_number: str, language: str, now: dt.datetime, zawgyi: bool,
           whatsapp: bool) -> bool:
    conversation = session.get(Conversation, tag, with_for_update=True)
    # A verdict question outranks a desk's text: its answer is asked for once. Not WhatsApp's
    # notice: a verdict question sent outside the window is held too, and the answer to the
    # notice releases it with the rest.
    replaceable: tuple[str, ...] = ("finished", step, ANSWER)
    if step == WINDOW:
        replaceable += (VERDICT,)
    if conversation is not None and conversation.step not in replaceable \
            and not _expired(conversation, now):
        return False
    if conversation is None:
        conversation = Conversation(sender_tag=tag)
        session.add(conversation)
    conversation.whatsapp = whatsapp
    conversation.inbound_number = inbound_number
    conversation.language = language
    conversation.zawgyi = zawgyi
    conversation.step = step
    conversation.facility_id = conversation.candidate_facility_id = None
    conversation.category = conversation.return_step = None
    conversation.report_id = report_id
    conversation.invalid_answers = 0
    conversation.updated_at = now
    session.flush()
    return True


def _dispatch(turn: Turn) -> None:
    body = turn.inbound.body.strip()
    if turn.conversation.step == WINDOW and turn.inbound.whatsapp \
            and turn.conversation.report_id is not None:
        # WhatsApp's notice answered, whatever the message (words, a tap, a keyword, a
        # picture, words too long to keep): the window is open, so the held texts go out,
        # those of this report and of any other of the worker's (after STOP, the release
        # finds the opt-out), and what the worker writes next answers the desk.
        turn.release = True
        turn.conversation.step = ANSWER
    if len(turn.inbound.body) > MAX_BODY_CHARS:
        turn.say(str(prompts.TOO_LONG))
        return
    if _keyword(turn, body):
        return
    if turn.inbound.media_count > 0 and turn.conversation.step != DETAILS:
        turn.say(str(prompts.PICTURES))
        if not body:
            return
    step_handler = _STEPS.get(turn.conversation.step, _start)
    step_handler(turn, body)


# --- keywords ----------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case and accents dropped, as our GSM-7 texts spell words: "Hủy" is HUY. Vietnamese
    đ is a letter of its own, not d with a mark, so it is made d by hand ("Bắt đầu")."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def keyword_in(body: str) -> tuple[str, frozenset[str], str] | None:
    """``(keyword, languages, rest)`` if the message starts with a keyword in any of our
    languages (``languages`` whose word it is; empty for English), else None.

    Every catalog's keywords count whatever the conversation's language: a worker whose
    conversation ended (or never began) still gets START and STATUS in their own words. A
    keyword made of two words counts as they are written, with a space (Vietnamese TRACUU,
    typed "Tra cứu"), as well as joined, as our texts spell it.
    """
    keywords = _all_keywords()
    # Any space separates words: a Chinese keyboard in full-width mode types U+3000.
    first, _, rest = " ".join(body.split()).partition(" ")
    found = keywords.get(_fold(first))
    if found is None and rest:
        second, _, after = rest.strip().partition(" ")
        found = keywords.get(_fold(first + second))
        rest = after
    return (found[0], found[1], rest.strip()) if found else None


KEYWORDS = {"STOP": prompts.STOP, "START": prompts.START, "HELP": prompts.HELP_WORD,
            "STATUS": prompts.STATUS, "NEW": prompts.RESTART, "DONE": prompts.DONE}


@functools.lru_cache(maxsize=1)
def _all_keywords() -> dict[str, tuple[str, frozenset[str]]]:
    """Folded keyword -> (keyword, the languages whose word it is; empty for English).

    Built once per process (the catalogs do not change while it runs). Some words are
    shared (BERHENTI is STOP in Malay and Indonesian; STATUS in English, Malay, Indonesian
    and Filipino); no word may mean two different keywords (a test checks). A Burmese word
    counts in its Zawgyi spelling too: many workers' phones still type Burmese that way.
    """
    table: dict[str, tuple[str, frozenset[str]]] = {}

    def add(form: str, name: str, language: str | None) -> None:
        known, languages = table.get(form, (name, frozenset()))
        if known != name:
            raise ValueError(f"keyword {form!r} means both {known} and {name}")
        table[form] = (name, languages | {language} if language else languages)

    for name, word in KEYWORDS.items():
        context, msgid = word._args
        add(_fold(msgid), name, None)
        for language in LANGUAGES:
            with force_locale(language.code):
                localized = _fold(pgettext(context, msgid))
            add(localized, name, None if localized == _fold(msgid) else language.code)
            if language.code == "my":
                add(_fold(zawgyi_spelling(localized)), name, language.code)
    return table


def _keyword(turn: Turn, body: str) -> bool:
    found = keyword_in(body)
    if found is None or found[0] == "DONE":
        return False
    name, languages, rest = found
    if name in ("STOP", "START", "HELP", "NEW") and rest:
        return False  # "Stop paying us..." is a sentence, not a keyword
    if languages and turn.conversation.language not in languages:
        # Answer in the language of the word the worker used.
        turn.conversation.language = next(c.code for c in LANGUAGES if c.code in languages)
    with force_locale(turn.conversation.language):
        _KEYWORD_ACTIONS[name](turn, rest)
    return True


def _start_again(turn: Turn, _rest: str) -> None:
    turn.session.query(OptOut).filter(OptOut.sender_tag == turn.tag).delete()
    turn.conversation.step = WORKPLACE
    turn.say(str(prompts.STARTED))


def _help(turn: Turn, _rest: str) -> None:
    turn.say(str(prompts.HELP))


def _new(turn: Turn, _rest: str) -> None:
    _reset(turn)
    _start(turn, "")


def _stop(turn: Turn, _rest: str = "") -> None:
    if turn.session.get(OptOut, turn.tag) is None:
        turn.session.add(OptOut(sender_tag=turn.tag))
    turn.forget = True
    turn.conversation.step = "finished"
    turn.say(str(prompts.STOPPED))


def _status(turn: Turn, typed: str) -> None:
    try:
        report, worker_key = find_by_receipt(turn.session, typed, profile=turn.profile)
    except (MalformedReceipt, ReceiptNotFound):
        turn.say(str(prompts.STATUS_NOT_FOUND))
        return
    if turn.release and _held_for(turn.session, report):
        # STATUS in answer to WhatsApp's notice: the held texts of this report go out now,
        # whole; a short form of the last of them besides would say it twice.
        return
    replies = [e for e in thread_for(turn.session, report, worker_key).entries
               if e.author is Author.DESK and e.text]
    # In the language the worker reported in: after the receipt the conversation is over,
    # and a new one starts in the number's language (English keywords work everywhere).
    with force_locale(report.language):
        if not replies:
            turn.say(str(prompts.STATUS_NONE))
            return
        frame = str(prompts.STATUS_REPLY)
    text = replies[-1].text or ""
    limit = STATUS_MAX[count_segments(frame % {"text": text}).encoding]
    turn.say(frame % {"text": _shorten(text, limit - len(frame % {"text": ""}))})


def _held_for(session: Session, report: Report) -> bool:
    """Whether a text to the worker about ``report`` is held for WhatsApp's window."""
    return session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.report_id == report.id,
        OutboundMessage.status == OutboundStatus.HELD).limit(1)) is not None


def _shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters so a STATUS answer stays within two segments
    whatever the desk wrote ("..." and not "…", which is not in the GSM-7 alphabet)."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)].rstrip() + "..."


def _reset(turn: Turn) -> None:
    conversation = turn.conversation
    conversation.step = "new"
    conversation.facility_id = conversation.candidate_facility_id = None
    conversation.category = None
    conversation.report_id = None
    conversation.invalid_answers = 0


# --- steps -------------------------------------------------------------------------------


def _start(turn: Turn, body: str) -> None:
    """A first message: a poster code in it skips the workplace question."""
    if _number(body) == 0:
        turn.conversation.step = WORKPLACE
        _language_menu(turn, page=1)
        return
    # The shape first: a message with no code needs no table (a first message's two
    # statements).
    found = (facilities.code_in_text(turn.session, body)
             if facilities.mentions_poster_code(body) else None)
    if found is None:
        turn.conversation.step = WORKPLACE
        turn.say(str(prompts.WELCOME))
        return
    _code_in_words(turn, found, body)


def _code_in_words(turn: Turn, found: Workplace, body: str) -> None:
    """The workplace of a poster code found in a message. What happened, told beside the
    code, is kept now, sealed as it arrives, as the first part of a report whose category
    the worker chooses next."""
    words = _DONE_AT_END.sub("", facilities.without_code(body, found.poster_code)).strip()
    if not any(char.isalpha() for char in words) or _opted_out(turn.session, turn.tag):
        # (a sender who said STOP gets no conversation, so no report, until START)
        _workplace_chosen(turn, found)
        return
    turn.conversation.facility_id = found.id
    report = _open_report(turn, categories=[])
    if report is not None:
        _keep_words(turn, report, words)
        _workplace_chosen(turn, found, told=report)


def _workplace(turn: Turn, body: str) -> None:
    if _number(body) == 0:
        _language_menu(turn, page=1)
        return
    alone = facilities.by_poster_code(turn.session, body)  # "MY 4821", "my-4821"
    if alone is not None:
        _workplace_chosen(turn, alone)
        return
    found = facilities.code_in_text(turn.session, body)
    if found is not None:
        _code_in_words(turn, found, body)
        return
    matches = facilities.search(turn.session, body, limit=1) if body else []
    if matches:
        turn.conversation.candidate_facility_id = matches[0].id
        turn.conversation.step = CONFIRM
        turn.say(str(prompts.CONFIRM_WORKPLACE) % {"name": matches[0].called})
        return
    _invalid(turn)


def _confirm(turn: Turn, body: str) -> None:
    conversation = turn.conversation
    choice = yes_or_no(body, conversation.language)
    if choice == 1 and conversation.candidate_facility_id is not None:
        facility = facilities.get(turn.session, conversation.candidate_facility_id)
        if facility is not None:
            _workplace_chosen(turn, facility)
            return
    if choice == 2:
        conversation.candidate_facility_id = None
        conversation.step = WORKPLACE
        turn.say(str(prompts.WORKPLACE_AGAIN))
        return
    if choice == 0:
        _language_menu(turn, page=1)
        return
    _invalid(turn)


def _workplace_chosen(turn: Turn, facility: Workplace, *, told: Report | None = None) -> None:
    """The category question next; ``told`` is the report a message opened with the words
    it held beside the poster code (the category step completes it), else None."""
    conversation = turn.conversation
    conversation.facility_id = facility.id
    conversation.report_id = told.id if told is not None else None
    conversation.candidate_facility_id = None
    conversation.step = CATEGORY
    conversation.invalid_answers = 0
    turn.say(str(prompts.CATEGORY_MENU))


def _category(turn: Turn, body: str) -> None:
    choice = _number(body)
    if choice == 0:
        _language_menu(turn, page=1)
        return
    if choice is None or not 1 <= choice <= len(CATEGORIES):
        _invalid(turn)
        return
    conversation = turn.conversation
    conversation.category = CATEGORIES[choice - 1].code
    told = _report_of(turn)  # opened by a message that told what happened beside the code
    if told is not None:
        set_categories(told, [conversation.category])
    elif _open_report(turn, categories=[conversation.category]) is None:
        return
    conversation.step = DETAILS
    conversation.invalid_answers = 0
    turn.say(str(prompts.DETAILS_MORE if told is not None else prompts.DETAILS))


def _open_report(turn: Turn, *, categories: list[str]) -> Report | None:
    """The conversation's report, opened now; None (and the worker told so, their place
    kept) if no desk covers the workplace and there is no fallback desk."""
    conversation = turn.conversation
    try:
        report = open_report(
            turn.session, channel=Channel.WHATSAPP if conversation.whatsapp else Channel.SMS,
            language=conversation.language, facility_id=conversation.facility_id,
            categories=categories,
        )
    except NoDeskAvailable:  # an operator error: say so, and keep the worker's place
        log.error("report refused: no desk to seal it to", extra={"event": "config"})
        turn.say(str(prompts.UNAVAILABLE))
        return None
    conversation.report_id = report.id
    return report


_ENDS = "#＃"  # "#", and as a Chinese keyboard in full-width mode types it
_DONE_AT_END = re.compile(rf"\s*[{_ENDS}]\s*$")


def _report_of(turn: Turn) -> Report | None:
    """The report the conversation is about; None if there is none (any longer)."""
    report_id = turn.conversation.report_id
    return turn.session.get(Report, report_id) if report_id is not None else None


def _keep_words(turn: Turn, report: Report, words: str) -> None:
    """Add the worker's words to the report, in parts a thread message may hold."""
    for start in range(0, len(words), MAX_MESSAGE_CHARS):
        add_worker_message(turn.session, report, words[start:start + MAX_MESSAGE_CHARS])


def _details(turn: Turn, body: str) -> None:
    report = _report_of(turn)
    if report is None:
        _report_gone(turn)
        return
    if turn.inbound.media_count > 0:
        turn.say(str(prompts.PICTURES))
    words = body
    finished = _is_done(body)
    if not finished and _DONE_AT_END.search(body):
        words, finished = _DONE_AT_END.sub("", body), True
    if words and not _is_done(words):
        _keep_words(turn, report, words)
    if finished:
        turn.conversation.step = CONSENT
        turn.say(str(prompts.CONSENT))


def _answer(turn: Turn, body: str) -> None:
    """Words sent after a text from the desk: added to that report, sealed to its desks, as
    on the follow-up page. A message that is only a poster code begins a new report."""
    report = _report_of(turn)
    if report is None:
        _report_gone(turn)
        return
    if facilities.is_poster_code(body):
        _reset(turn)
        _start(turn, body)
        return
    words = _DONE_AT_END.sub("", body)
    if not words or _is_done(words) or turn.inbound.button:
        # a picture alone (already answered), the habit of ending with DONE, or a tap on the
        # button of WhatsApp's notice (its label is no words of the worker's)
        return
    try:
        _keep_words(turn, report, words)
    except ReportGone:
        _report_gone(turn)
        return
    turn.say(str(prompts.ANSWER_ADDED))


def _window(turn: Turn, body: str) -> None:
    """Words by SMS while WhatsApp's notice waits for an answer (an answer on WhatsApp has
    ``_dispatch`` release the held texts and move on to ``_answer``): a text by SMS opens no
    WhatsApp window, so its words are kept and the texts stay held for their next WhatsApp
    message."""
    _answer(turn, body)


def _report_gone(turn: Turn, *, verdict: bool = False) -> None:
    """Retention deleted the report (its time was up; it left the conversation pointing at
    no report): the words or the verdict were not kept, the worker is told so, and the next
    message begins a new report. A message cannot arrive while retention deletes its report:
    it holds its conversation first, and retention leaves a report whose conversation is
    held (``ReportGone`` is answered the same way all the same)."""
    _reset(turn)
    turn.conversation.step = WORKPLACE
    turn.say(str(prompts.VERDICT_GONE if verdict else prompts.REPORT_GONE))


def _is_done(body: str) -> bool:
    """The whole message is "#" or the DONE word of any of our languages."""
    found = keyword_in(body)
    stripped = body.strip()
    return (len(stripped) == 1 and stripped in _ENDS) or (
        found is not None and found[0] == "DONE" and not found[2])


def _consent(turn: Turn, body: str) -> None:
    choice = yes_or_no(body, turn.conversation.language)
    if choice not in (1, 2):
        _invalid(turn)
        return
    report = turn.session.get(Report, turn.conversation.report_id)
    if report is None:
        _reset(turn)
        _start(turn, "")
        return
    if choice == 1:
        attach_contact(turn.session, report, turn.inbound.sender, now=turn.now,
                       zawgyi=turn.conversation.zawgyi, whatsapp=turn.conversation.whatsapp,
                       wrote_to=turn.inbound.to)
    receipt = issue_receipt(turn.session, report, profile=turn.profile)
    turn.conversation.step = "finished"
    turn.say(str(prompts.RECEIPT) % {"receipt": format_receipt(receipt)})


_VERDICTS = {1: Verdict.YES, 2: Verdict.PARTLY, 3: Verdict.NO}
_VERDICT_ANSWER = re.compile(r"\s*(\d)(?!\d)[\s.,:;)\-]*(.*)", re.DOTALL)


# Between an answer's words: spaces, and the stops and commas of our languages' scripts.
_ANSWER_PUNCTUATION = " .,!?;:。！？，،؟।"
_BETWEEN = rf"\s{re.escape(_ANSWER_PUNCTUATION)}"
_FIRST_WORD = re.compile(rf"\s*([^{_BETWEEN}]+)[{_BETWEEN}]+\S.*", re.DOTALL)


def _verdict_in_words(body: str, language: str) -> tuple[Verdict, str] | None:
    """Yes or no in words (those of the yes-or-no questions, ``yes_no_words``): alone, or
    as the first word of a longer answer, which is then the comment as written ("No,
    still no pay"). Partly has no word: its number says it."""
    choice = yes_or_no(body, language)
    comment = ""
    if choice is None and (first := _FIRST_WORD.fullmatch(body)) is not None:
        choice = yes_no_words(language).get(_fold(first.group(1)))
        comment = body.strip()
    return {1: (Verdict.YES, comment), 2: (Verdict.NO, comment)}.get(choice or 0)


def verdict_answer(body: str) -> tuple[Verdict, str] | None:
    """``(verdict, comment)`` from "3 nothing changed" (any script's digits), else None."""
    found = _VERDICT_ANSWER.fullmatch(body)
    if found is None:
        return None
    verdict = _VERDICTS.get(unicodedata.decimal(found.group(1), 0))
    return (verdict, found.group(2).strip()) if verdict is not None else None


def _verdict(turn: Turn, body: str) -> None:
    """The answer to "was the problem fixed?": recorded with its comment sealed to the desk.

    A wrong answer is asked again once; a second one ends the verdict step and the message
    is taken as the start of a new conversation (a worker may be reporting something new).
    """
    conversation = turn.conversation
    report = _report_of(turn)
    if report is None:
        _report_gone(turn, verdict=True)
        return
    answer = verdict_answer(body) or _verdict_in_words(body, conversation.language)
    if answer is None and conversation.invalid_answers >= 1:
        _reset(turn)
        _start(turn, body)
        return
    if answer is None:
        conversation.invalid_answers += 1
        turn.say(question_text(turn.session, report))
        return
    verdict, comment = answer
    conversation.step = "finished"
    try:
        # Longer than a comment may be: the first part is kept rather than nothing.
        record_verdict(turn.session, report, verdict, comment[:MAX_COMMENT_CHARS],
                       channel="sms")
    except ReportRejected:  # the desk no longer asks (the case was closed meanwhile)
        return
    except ReportGone:
        _report_gone(turn, verdict=True)
        return
    turn.say(str(prompts.VERDICT_THANKS))


def _language_menu(turn: Turn, *, page: int) -> None:
    conversation = turn.conversation
    if conversation.step not in (LANGUAGE, LANGUAGE_2):
        conversation.return_step = conversation.step
    conversation.step = LANGUAGE if page == 1 else LANGUAGE_2
    turn.say(language_menu(page))


def language_menu(page: int) -> str:
    """Languages by their own names, seven a page; the first page offers 9 for more."""
    chosen = LANGUAGES[:LANGUAGE_PAGE] if page == 1 else LANGUAGES[LANGUAGE_PAGE:]
    lines = [f"{index} {language.name}" for index, language in enumerate(chosen, start=1)]
    if page == 1:
        lines.append(str(prompts.LANGUAGE_MORE))
    return "\n".join(lines)


# Replies that are the same for every worker who gets them: menus and fixed prompts, in
# every language. Nothing typed, received or issued (a receipt, the desk's answer, a
# workplace's name) is ever among them.
_FIXED_PROMPTS = (prompts.WELCOME, prompts.WORKPLACE, prompts.WORKPLACE_AGAIN,
                  prompts.CATEGORY_MENU, prompts.DETAILS, prompts.CONSENT, prompts.HELP,
                  prompts.STOPPED, prompts.STARTED, prompts.STATUS_NONE,
                  prompts.STATUS_NOT_FOUND, prompts.PICTURES, prompts.TOO_LONG,
                  prompts.UNAVAILABLE, prompts.VERDICT_THANKS, prompts.REPORT_GONE,
                  prompts.VERDICT_GONE, prompts.ANSWER_ADDED)


@functools.cache
def fixed_replies() -> frozenset[str]:
    """Every reply that holds nothing of any worker's, as sent (needs an app context)."""
    texts: set[str] = set()
    for language_ in LANGUAGES:
        with force_locale(language_.code):
            texts.update(str(prompt) for prompt in _FIXED_PROMPTS)
            texts.update(language_menu(page) for page in (1, 2))
    return frozenset(texts)


def _language(turn: Turn, body: str) -> None:
    """A number from the menu's page, or a language's name (its own, as the menu writes
    it, or its English one). Anything else is not an answer to the menu: the worker carries
    on where they were, in the same language (a poster code sent here is the workplace)."""
    page = 1 if turn.conversation.step == LANGUAGE else 2
    choice = _number(body)
    if page == 1 and choice == 9:
        _language_menu(turn, page=2)
        return
    offered = LANGUAGES[:LANGUAGE_PAGE] if page == 1 else LANGUAGES[LANGUAGE_PAGE:]
    chosen = _language_names().get(_fold(body))
    if chosen is None and choice is not None and 1 <= choice <= len(offered):
        chosen = offered[choice - 1].code
    conversation = turn.conversation
    if chosen is None and (choice is not None or not body):
        turn.say(language_menu(page))  # a number the page does not offer
        return
    conversation.step = conversation.return_step or WORKPLACE
    conversation.return_step = None
    if chosen is None:
        _STEPS[conversation.step](turn, body)
        return
    conversation.language = chosen
    with force_locale(conversation.language):
        _ask(turn, again=False)


@functools.cache
def _language_names() -> dict[str, str]:
    """Folded language names (own, as a Zawgyi keyboard types it, English) to codes."""
    return {_fold(name): language.code for language in LANGUAGES for name in (
        language.name, zawgyi_spelling(language.name), language_label(language.code))}


def _ask(turn: Turn, *, again: bool) -> None:
    """The question of the conversation's step: ``again`` after an answer that was not one
    (at the workplace step: that workplace was not found), else afresh, as in a language the
    worker has just chosen."""
    conversation = turn.conversation
    if conversation.step == CONFIRM and conversation.candidate_facility_id is not None:
        facility = facilities.get(turn.session, conversation.candidate_facility_id)
        if facility is not None:
            turn.say(str(prompts.CONFIRM_WORKPLACE) % {
                "name": facility.name_for(conversation.language)})
            return
    workplace = prompts.WORKPLACE_AGAIN if again else prompts.WORKPLACE
    turn.say(str({
        WORKPLACE: workplace, CONFIRM: workplace, CATEGORY: prompts.CATEGORY_MENU,
        DETAILS: prompts.DETAILS, CONSENT: prompts.CONSENT,
    }.get(conversation.step, prompts.WELCOME)))


def _invalid(turn: Turn) -> None:
    """Ask the same question again; after repeated wrong answers send the short help."""
    conversation = turn.conversation
    conversation.invalid_answers += 1
    if conversation.invalid_answers > HELP_AFTER_INVALID:
        conversation.invalid_answers = 0
        turn.say(str(prompts.HELP))
        return
    _ask(turn, again=True)


def _number(body: str) -> int | None:
    """A menu's answer in the digits of any script: "３" from a Chinese keyboard, "๓" from
    a Thai one, "٣" from an Arabic one; None if the message is not a short number."""
    digits = "".join(str(unicodedata.decimal(c, "")) for c in body.strip() if c.isdecimal())
    if not digits or len(digits) > 3 or len(body.strip()) > 4:
        return None
    return int(digits)


def yes_or_no(body: str, language: str) -> int | None:
    """An answer to a question of 1 for yes, 2 for no: its number, or "yes" or "no" in the
    conversation's language (as the question words it: Thai ได้, Chinese 可以) or English."""
    choice = _number(body)
    if choice is not None:
        return choice
    return yes_no_words(language).get(_fold(body).strip(_ANSWER_PUNCTUATION))



@functools.cache
def yes_no_words(language: str) -> dict[str, int]:
    """Folded words (``_fold``) for yes (1) and no (2) in ``language`` and in English; a
    Burmese word in its Zawgyi spelling too."""
    words: dict[str, int] = {}
    for code in ("en", language):
        with force_locale(code):
            for choice, prompt in ((1, prompts.YES_WORDS), (2, prompts.NO_WORDS)):
                for word in str(prompt).split("|"):
                    for form in {word, zawgyi_spelling(word)} if code == "my" else {word}:
                        words[_fold(form).strip(_ANSWER_PUNCTUATION)] = choice
    words.pop("", None)
    return words


_KEYWORD_ACTIONS: dict[str, Callable[[Turn, str], None]] = {
    "STOP": _stop, "START": _start_again, "HELP": _help, "STATUS": _status, "NEW": _new,
}

_STEPS: dict[str, Callable[[Turn, str], None]] = {
    "new": _start, WORKPLACE: _workplace, CONFIRM: _confirm, CATEGORY: _category,
    DETAILS: _details, CONSENT: _consent, LANGUAGE: _language, LANGUAGE_2: _language,
    VERDICT: _verdict, ANSWER: _answer, WINDOW: _window,
}

