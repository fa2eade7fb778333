"""Benchmark of the desk's triage queue and of opening a large case, on PostgreSQL at scale.

    python bench/triage.py [--reports 1000000 --desks 100 --facilities 5000] [--keep]

Not a test. Targets (issue 7): with 1,000,000 reports over 100 desks and 5,000 facilities,
the first queue page (50 rows, any single filter) p95 under 100 ms; opening a case of 1,000
reports (decrypting all) under 0.5 s. Baselines measured in the same run: a ``SELECT 1``
round trip and a bare 50-row read of one desk's rows through the same session (the floor
under a queue page), and 1,000 bare ``open_sealed`` calls on blobs in memory (the floor
under opening the case).

Loading takes minutes, in server-side SQL. The database is left in place so that ``--keep``
can reuse it; drop it with ``dropdb -h 127.0.0.1 -U postgres intake_bench_triage``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parents[1])

from sqlalchemy import Connection, Engine, create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.summary import Headline, emit  # noqa: E402
from crypto.envelope import open_sealed, seal  # noqa: E402
from crypto.hierarchy import TEST_FAST, recover_desk_key  # noqa: E402
from crypto.keys import PrivateKey  # noqa: E402
from intake import schema  # noqa: E402
from intake.accounts.models import Desk, Role  # noqa: E402
from intake.accounts.service import (  # noqa: E402
    NewDesk,
    create_account,
    create_desk,
    desk_context,
)
from intake.cases.models import Case, CaseReport, CaseStatus  # noqa: E402
from intake.cases.service import open_case, title_context  # noqa: E402
from intake.db import make_engine  # noqa: E402
from intake.i18n import LANGUAGES  # noqa: E402
from intake.reports.categories import CATEGORY_CODES  # noqa: E402
from intake.reports.models import (  # noqa: E402
    QUEUE_RANK,
    Channel,
    Report,
    ReportDesk,
    Severity,
    TriageStatus,
)
from intake.reports.service import body_context  # noqa: E402
from intake.triage.service import AGES, QueueFilter, queue_counts, queue_page  # noqa: E402
from intake.triage.taxonomy import DESK_CATEGORIES  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/intake_bench_triage"
COUNTRIES = ("MY", "MX", "TH", "VN", "CN")
DAYS = 730  # reports arrived over the last two years
CASE_SIZE = 1000
BODY_POOL = 1000  # distinct random body blobs the bulk reports share

# What a desk sees, roughly: weights (any scale) per value. Enum columns store NAMES.
CHANNEL_WEIGHTS = {Channel.WEB: 30, Channel.SMS: 35, Channel.WHATSAPP: 25, Channel.PHONE: 7,
                   Channel.IN_PERSON: 3}
CATEGORY_WEIGHTS = {"wages": 25, "hours": 20, "safety": 12, "harassment": 10, "dormitory": 8,
                    "retaliation": 5, "discrimination": 5, "forced_labour": 5, "other": 5,
                    "union": 3, "child_labour": 2}
STATUS_WEIGHTS = {TriageStatus.NEW: 5, TriageStatus.IN_TRIAGE: 10, TriageStatus.IN_CASE: 30,
                  TriageStatus.NO_ACTION: 55}
SEVERITY_WEIGHTS = {Severity.IMMEDIATE_DANGER: 5, Severity.SERIOUS: 35, Severity.OTHER: 60}
# The workforce's languages per country, weighted by repetition; 3% of reports come in any
# of the 14 languages, so that every code occurs.
LANGUAGES_BY_COUNTRY = {
    "MY": ["ms", "ms", "bn", "bn", "ne", "ne", "my", "id", "en", "hi"],
    "MX": ["es"] * 9 + ["en"],
    "TH": ["th"] * 6 + ["my"] * 3 + ["en"],
    "VN": ["vi"] * 9 + ["en"],
    "CN": ["zh_Hans"] * 9 + ["en"],
}
ANY_LANGUAGE = 0.03


def _buckets(weights: Mapping[Any, int]) -> tuple[list[str], list[float]]:
    """Values (as stored) and their buckets' lower bounds on [0, 1), for SQL's width_bucket."""
    total = sum(weights.values())
    names = [getattr(value, "name", value) for value in weights]
    bounds = list(itertools.accumulate((w / total for w in weights.values()), initial=0.0))
    return names, bounds[:-1]


# --- loading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """What the timing needs from a loaded database (kept in ``bench_triage_meta``)."""

    case_desk_id: int
    case_id: uuid.UUID
    recovery_secret: str
    actor_id: int
    load_seconds: float
    reports: int


@contextmanager
def step(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def admin_engine(url: str) -> Engine:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def database_exists(url: str) -> bool:
    with admin_engine(url).connect() as connection:
        return connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": make_url(url).database}) is not None


def recreate_database(url: str) -> None:
    name = make_url(url).database
    with admin_engine(url).connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))


def read_loaded(engine: Engine) -> Loaded | None:
    with engine.connect() as connection:
        if connection.scalar(text("SELECT to_regclass('bench_triage_meta')")) is None:
            return None
        meta: dict[str, str] = {name: value for name, value in connection.execute(
            text("SELECT name, value FROM bench_triage_meta"))}
    return Loaded(int(meta["case_desk_id"]), uuid.UUID(meta["case_id"]),
                  meta["recovery_secret"], int(meta["actor_id"]), float(meta["load_seconds"]),
                  int(meta["reports"]))


def load(engine: Engine, *, reports: int, desks: int, facilities: int) -> Loaded:
    started = time.perf_counter()
    with step("migrate"):
        schema.upgrade(engine)
    with Session(engine) as session, session.begin():
        with step(f"{desks} desks (create_desk) and an actor account"):
            case_desk, actor_id = _desks_and_actor(session, desks)
        connection = session.connection()
        with step(f"{facilities:,} facilities and coverage"):
            _facilities(connection, facilities)
        with step(f"{reports - CASE_SIZE:,} reports (INSERT ... SELECT)"):
            _bulk_reports(connection, reports - CASE_SIZE, facilities)
        with step("their report_desks rows"):
            _bulk_report_desks(connection)
        with step(f"case of {CASE_SIZE:,} reports with real sealed bodies"):
            case_id = _case(session, case_desk)
        case_desk_id = case_desk.desk.id
    with step("VACUUM ANALYZE"), engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE"))
    loaded = Loaded(case_desk_id, case_id, case_desk.recovery_secret, actor_id,
                    time.perf_counter() - started, reports)
    _save_meta(engine, loaded)
    return loaded


def _desks_and_actor(session: Session, count: int) -> tuple[NewDesk, int]:
    """Real desks with real keypairs (cheap with the test Argon2 profile); the first one
    holds the case and is the one whose key the bench keeps (via its recovery secret)."""
    created = [create_desk(session, name=f"Desk {n:03d}", country=COUNTRIES[n % len(COUNTRIES)],
                           profile=TEST_FAST) for n in range(count)]
    actor = create_account(session, email="monitor@bench.test", display_name="Bench monitor",
                           role=Role.MONITOR, secret_key=os.urandom(32), profile=TEST_FAST)
    return created[0], actor.account.id


def _facilities(connection: Connection, count: int) -> None:
    """Countries in turn (so each desk's 50 facilities span all five); poster codes MY0001...;
    facility ``f`` is covered by one desk, desks taking consecutive blocks of facilities."""
    width = max(4, len(str(-(-count // len(COUNTRIES)))))
    connection.execute(text("""
        INSERT INTO facilities (id, name, country, sector, poster_code, worker_band)
        SELECT g, 'Facility ' || g, c.country, 'garments',
               c.country || lpad(((g - 1) / :n_countries + 1)::text, :width, '0'), '500-1000'
        FROM generate_series(1, :count) AS g,
             LATERAL (SELECT (CAST(:countries AS text[]))[1 + (g - 1) % :n_countries]
                      AS country) AS c
    """), {"count": count, "countries": list(COUNTRIES), "n_countries": len(COUNTRIES),
           "width": width})
    connection.execute(text("SELECT setval(pg_get_serial_sequence('facilities', 'id'), :n)"),
                       {"n": count})
    connection.execute(text("""
        INSERT INTO coverage (desk_id, facility_id)
        SELECT d.id, f.id
        FROM facilities AS f
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM desks) AS d
          ON d.n = (f.id - 1) * (SELECT count(*) FROM desks) / :count
    """), {"count": count})


def _body_sizes(rng: random.Random, count: int) -> Iterator[int]:
    """Sealed sizes as the real envelope gives them (1,224 bytes for an empty body to one
    PQ-hybrid desk, plus the JSON): most reports a few hundred characters, a few long."""
    for _ in range(count):
        yield 1224 + min(12000, int(rng.lognormvariate(6.0, 0.8)))


def _bulk_reports(connection: Connection, count: int, facilities: int) -> None:
    """Rows in order of arrival, as production writes them (a desk's reports interleaved
    with every other desk's). Bodies are random bytes of realistic sizes, so the table has
    its real width, shared among rows from a pool: the queue never decrypts them."""
    rng = random.Random(7)
    connection.execute(text("CREATE TEMP TABLE bench_bodies (n int PRIMARY KEY, blob bytea)"))
    connection.execute(text("INSERT INTO bench_bodies VALUES (:n, :blob)"),
                       [{"n": n, "blob": os.urandom(size)}
                        for n, size in enumerate(_body_sizes(rng, BODY_POOL))])
    connection.execute(text("CREATE TEMP TABLE bench_languages (country text, codes text[])"))
    connection.execute(text("INSERT INTO bench_languages VALUES (:country, :codes)"),
                       [{"country": c, "codes": codes} for c, codes in
                        LANGUAGES_BY_COUNTRY.items()])
    channels, channel_bounds = _buckets(CHANNEL_WEIGHTS)
    categories, category_bounds = _buckets(CATEGORY_WEIGHTS)
    assert set(categories) == CATEGORY_CODES, "weigh every worker category"
    connection.execute(text("""
        WITH draw AS (
            SELECT 1 + floor(random() * :facilities)::int AS facility_id,
                   floor(random() * :days)::int AS age,
                   random() AS channel, random() AS language, random() AS any_language,
                   (CAST(:categories AS text[]))[width_bucket(
                       random(), CAST(:category_bounds AS float8[]))] AS first,
                   CASE WHEN random() < 0.3 THEN (CAST(:categories AS text[]))[width_bucket(
                       random(), CAST(:category_bounds AS float8[]))] END AS second,
                   g % :pool AS body
            FROM generate_series(1, :count) AS g
        )
        INSERT INTO reports (id, received_on, channel, language, facility_id, categories,
                             body_sealed, contact_consent)
        SELECT gen_random_uuid(), current_date - d.age,
               (CAST(:channels AS text[]))[width_bucket(d.channel,
                                                        CAST(:channel_bounds AS float8[]))],
               CASE WHEN d.any_language < :any_language
                    THEN (CAST(:languages AS text[]))[1 + floor(d.language * :n_languages)::int]
                    ELSE l.codes[1 + floor(d.language * cardinality(l.codes))::int] END,
               d.facility_id,
               CASE WHEN d.second IS NULL OR d.second = d.first THEN d.first
                    ELSE least(d.first, d.second) || ',' || greatest(d.first, d.second) END,
               b.blob, false
        FROM draw AS d
        JOIN facilities AS f ON f.id = d.facility_id
        JOIN bench_languages AS l ON l.country = f.country
        JOIN bench_bodies AS b ON b.n = d.body
        ORDER BY d.age DESC
    """), {"count": count, "facilities": facilities, "days": DAYS, "pool": BODY_POOL,
           "channels": channels, "channel_bounds": channel_bounds,
           "categories": categories, "category_bounds": category_bounds,
           "languages": [language.code for language in LANGUAGES],
           "n_languages": len(LANGUAGES), "any_language": ANY_LANGUAGE})


def _bulk_report_desks(connection: Connection) -> None:
    """One row per report, for the desk covering its facility, in order of arrival (desks
    interleaved on disk, as in production). Triage columns as a desk leaves them: the
    first worker category (half of forced labour refined once triaged), a severity once
    triaged, the status drawn by weight and its matching queue rank."""
    statuses, status_bounds = _buckets(STATUS_WEIGHTS)
    assert [QUEUE_RANK[TriageStatus[s]] for s in statuses] == list(range(len(statuses)))
    severities, severity_bounds = _buckets(SEVERITY_WEIGHTS)
    refined = [code for code in DESK_CATEGORIES if code.startswith("forced_labour.")]
    connection.execute(text("""
        INSERT INTO report_desks (report_id, desk_id, received_on, facility_id, channel,
                                  language, status, queue_rank, category, severity, tags)
        SELECT t.id, t.desk_id, t.received_on, t.facility_id, t.channel, t.language,
               (CAST(:statuses AS text[]))[t.rank + 1], t.rank,
               CASE WHEN t.first = 'forced_labour' AND t.rank > 0 AND t.refine < 0.5
                    THEN (CAST(:refined AS text[]))[1 + floor(t.refine * 2 * :n_refined)::int]
                    ELSE t.first END,
               CASE WHEN t.rank > 0 THEN (CAST(:severities AS text[]))[width_bucket(
                   random(), CAST(:severity_bounds AS float8[]))] END,
               ''
        FROM (SELECT r.id, c.desk_id, r.received_on, r.facility_id, r.channel, r.language,
                     split_part(r.categories, ',', 1) AS first,
                     width_bucket(random(), CAST(:status_bounds AS float8[])) - 1 AS rank,
                     random() AS refine
              FROM reports AS r JOIN coverage AS c ON c.facility_id = r.facility_id) AS t
        ORDER BY t.received_on, t.id  -- random within a day, as arrivals are
    """), {"statuses": statuses, "status_bounds": status_bounds, "severities": severities,
           "severity_bounds": severity_bounds, "refined": refined, "n_refined": len(refined)})


def _details(rng: random.Random) -> str:
    words = ("overtime", "was", "not", "paid", "for", "three", "months", "the", "supervisor",
             "shouted", "at", "us", "and", "kept", "our", "passports", "in", "dormitory")
    return " ".join(rng.choice(words) for _ in range(max(5, int(rng.lognormvariate(4.2, 0.8)))))


def _case(session: Session, new_desk: NewDesk) -> uuid.UUID:
    """1,000 reports of the desk's first facility, sealed to the desk's real key, in one case."""
    rng = random.Random(11)
    desk: Desk = new_desk.desk
    public = new_desk.private_key.public_key()
    facility_id = session.scalar(text(
        "SELECT min(facility_id) FROM coverage WHERE desk_id = :d"), {"d": desk.id})
    today = session.scalar(text("SELECT current_date"))
    reports, triage = [], []
    for _ in range(CASE_SIZE):
        report_id = uuid.uuid4()
        day = today - dt.timedelta(days=rng.randrange(DAYS))
        body = json.dumps({"details": _details(rng)}, ensure_ascii=False).encode()
        reports.append({"id": report_id, "received_on": day, "channel": Channel.SMS,
                        "language": "ms", "facility_id": facility_id, "categories": "wages",
                        "contact_consent": False,
                        "body_sealed": seal(body, [public], context=body_context(report_id))})
        triage.append({"report_id": report_id, "desk_id": desk.id, "received_on": day,
                       "facility_id": facility_id, "channel": Channel.SMS, "language": "ms",
                       "status": TriageStatus.IN_CASE, "queue_rank": QUEUE_RANK[
                           TriageStatus.IN_CASE], "category": "wages",
                       "severity": Severity.SERIOUS, "tags": ""})
    session.execute(insert(Report), reports)
    session.execute(insert(ReportDesk), triage)
    case_id = uuid.uuid4()
    session.add(Case(id=case_id, desk_id=desk.id, facility_id=facility_id, category="wages",
                     severity=Severity.SERIOUS, status=CaseStatus.OPEN,
                     title_sealed=seal(b"Unpaid overtime, line 3", [public],
                                       context=title_context(case_id))))
    session.flush()
    session.execute(insert(CaseReport), [{"case_id": case_id, "report_id": r["id"]}
                                         for r in reports])
    return case_id


def _save_meta(engine: Engine, loaded: Loaded) -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE bench_triage_meta (name text PRIMARY KEY, value text NOT NULL)"))
        connection.execute(text("INSERT INTO bench_triage_meta VALUES (:name, :value)"), [
            {"name": "case_desk_id", "value": str(loaded.case_desk_id)},
            {"name": "case_id", "value": str(loaded.case_id)},
            {"name": "recovery_secret", "value": loaded.recovery_secret},
            {"name": "actor_id", "value": str(loaded.actor_id)},
            {"name": "load_seconds", "value": f"{loaded.load_seconds:.1f}"},
            {"name": "reports", "value": str(loaded.reports)},
        ])


# --- timing ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@dataclass
class QueueSamples:
    page: list[float]
    page_and_counts: list[float]
    select_1: list[float]
    bare_50: list[float]


FilterFor = Callable[[int], QueueFilter]  # a desk id -> one filter for that desk's queue


def queue_filters(session: Session, rng: random.Random) -> dict[str, FilterFor]:
    """Each filter alone, its value drawn from what the queue page offers (so some values
    match few or no rows of the desk: the slow end). ``status=new`` is the page's default."""
    covered: dict[int, list[int]] = {}
    for desk_id, facility_id in session.execute(text("SELECT desk_id, facility_id FROM coverage")):
        covered.setdefault(desk_id, []).append(facility_id)
    return {
        "default (status=new)": lambda d: QueueFilter(status=TriageStatus.NEW),
        "status=all (no filter)": lambda d: QueueFilter(),
        "facility": lambda d: QueueFilter(facility_id=rng.choice(covered[d])),
        "country": lambda d: QueueFilter(country=rng.choice(COUNTRIES)),
        "language": lambda d: QueueFilter(language=rng.choice(LANGUAGES).code),
        "channel": lambda d: QueueFilter(channel=rng.choice(list(Channel))),
        "category": lambda d: QueueFilter(category=rng.choice(list(DESK_CATEGORIES))),
        "age": lambda d: QueueFilter(age=rng.choice([*AGES, "older"])),
    }


def time_queue(engine: Engine, *, desks_per_filter: int, values_per_desk: int,
               seed: int) -> dict[str, QueueSamples]:
    """Each sample starts a fresh transaction, as a request does; the baselines are timed
    next to every sample so that machine noise falls on both alike."""
    rng = random.Random(seed)
    results: dict[str, QueueSamples] = {}
    bare = text("SELECT report_id, desk_id, received_on, status, queue_rank, category, "
                "severity, tags, assignee_id FROM report_desks WHERE desk_id = :d LIMIT 50")
    with Session(engine) as session:
        desk_ids = list(session.scalars(text("SELECT id FROM desks ORDER BY id")))
        filters = queue_filters(session, rng)
        for flt in (f(desk_ids[0]) for f in filters.values()):  # warm up plans and caches
            queue_page(session, desk_ids[0], flt)
            queue_counts(session, desk_ids[0], flt)
        for name, make in filters.items():
            samples = QueueSamples([], [], [], [])
            for desk_id in rng.sample(desk_ids, min(desks_per_filter, len(desk_ids))):
                for _ in range(values_per_desk):
                    flt = make(desk_id)
                    session.rollback()
                    started = time.perf_counter()
                    queue_page(session, desk_id, flt)
                    paged = time.perf_counter()
                    queue_counts(session, desk_id, flt)
                    samples.page.append(paged - started)
                    samples.page_and_counts.append(time.perf_counter() - started)
                    session.rollback()
                    samples.select_1.append(_timed(lambda: session.execute(text("SELECT 1"))))
                    session.rollback()
                    started = time.perf_counter()
                    session.execute(bare, {"d": desk_id}).all()
                    samples.bare_50.append(time.perf_counter() - started)
            results[name] = samples
            session.rollback()
    return results


@dataclass
class CaseSamples:
    open_case: list[float]
    bare_open: list[float]
    reports: int


def time_case(engine: Engine, loaded: Loaded, *, runs: int) -> CaseSamples:
    """``open_case`` as the case page calls it, each run in a transaction rolled back after
    (so every run is a first opening: it also marks 1,000 reports opened); next to it,
    1,000 bare ``open_sealed`` calls on the same blobs already in memory."""
    with Session(engine) as session:
        desk = session.get_one(Desk, loaded.case_desk_id)
        key: PrivateKey = recover_desk_key(desk.recovery_wrap, loaded.recovery_secret,
                                           desk_id=desk_context(desk.id))
        blobs = session.execute(text(
            "SELECT r.id, r.body_sealed FROM reports AS r JOIN case_reports AS c "
            "ON c.report_id = r.id WHERE c.case_id = :c"), {"c": loaded.case_id}).all()

    def open_once() -> float:
        with Session(engine) as session:
            started = time.perf_counter()
            view = open_case(session, desk_id=loaded.case_desk_id, case_id=loaded.case_id,
                             desk_key=key, actor_id=loaded.actor_id)
            elapsed = time.perf_counter() - started
            assert all(r.details for r in view.reports), "a body did not open"
            session.rollback()
        return elapsed

    def bare() -> None:
        for report_id, blob in blobs:
            open_sealed(blob, key, context=body_context(report_id))

    open_once()  # warm up
    bare()
    samples = CaseSamples([], [], len(blobs))
    for _ in range(runs):
        samples.open_case.append(open_once())
        samples.bare_open.append(_timed(bare))
    return samples


# --- output ------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _verdict(seconds: float, limit: float) -> str:
    return "met" if seconds < limit else "MISSED"


def print_queue(results: dict[str, QueueSamples]) -> None:
    print("| filter (alone) | queue_page p50 | p95 | + queue_counts p50 | p95 "
          "| p95 < 100 ms: page / page + counts |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, s in results.items():
        page, both = percentile(s.page, .95), percentile(s.page_and_counts, .95)
        print(f"| {name} | {_ms(statistics.median(s.page))} | {_ms(page)} "
              f"| {_ms(statistics.median(s.page_and_counts))} | {_ms(both)} "
              f"| {_verdict(page, 0.1)} / {_verdict(both, 0.1)} |")
    select_1 = [t for s in results.values() for t in s.select_1]
    bare = [t for s in results.values() for t in s.bare_50]
    print(f"| baseline: SELECT 1 round trip | {_ms(statistics.median(select_1))} "
          f"| {_ms(percentile(select_1, .95))} | | | |")
    print(f"| baseline: bare SELECT of the desk's rows, LIMIT 50 "
          f"| {_ms(statistics.median(bare))} | {_ms(percentile(bare, .95))} | | | |")


def print_case(samples: CaseSamples, runs: int) -> None:
    opened, floor = samples.open_case, samples.bare_open
    print(f"| measure ({runs} runs) | median | max | baseline: {samples.reports:,} bare "
          "open_sealed, median / max | ratio (medians) | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| open_case, {samples.reports:,} reports | {_ms(statistics.median(opened))} "
          f"| {_ms(max(opened))} | {_ms(statistics.median(floor))} / {_ms(max(floor))} "
          f"| {statistics.median(opened) / statistics.median(floor):.2f}x "
          f"| < 500 ms: {_verdict(max(opened), 0.5)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL,
                        help="a database of its own: it is dropped and recreated")
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--desks", type=int, default=100)
    parser.add_argument("--facilities", type=int, default=5000)
    parser.add_argument("--keep", action="store_true",
                        help="reuse the database if a previous run loaded it")
    parser.add_argument("--desks-per-filter", type=int, default=20)
    parser.add_argument("--values-per-desk", type=int, default=3)
    parser.add_argument("--case-runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.facilities < args.desks or args.reports <= CASE_SIZE:
        parser.error("need at least one facility per desk and more than 1,000 reports")

    loaded = None
    if args.keep and database_exists(args.database_url):
        loaded = read_loaded(make_engine(args.database_url))
    if loaded is None:
        print("loading (drop and recreate the database):", file=sys.stderr)
        recreate_database(args.database_url)
        loaded = load(make_engine(args.database_url), reports=args.reports, desks=args.desks,
                      facilities=args.facilities)
    else:
        print(f"reusing the loaded database ({loaded.reports:,} reports; --reports, --desks "
              "and --facilities are those of the load)", file=sys.stderr)
    engine = make_engine(args.database_url)
    with engine.connect() as connection:
        counts = connection.execute(text(
            "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM desks), "
            "(SELECT count(*) FROM facilities), pg_size_pretty(pg_database_size("
            "current_database())), current_setting('server_version'), "
            "current_setting('shared_buffers')")).one()
    queue = time_queue(engine, desks_per_filter=args.desks_per_filter,
                       values_per_desk=args.values_per_desk, seed=args.seed)
    case = time_case(engine, loaded, runs=args.case_runs)

    print(f"python {sys.version.split()[0]}, PostgreSQL {counts[4]} (shared_buffers "
          f"{counts[5]}), {os.cpu_count()} CPUs; {counts[0]:,} reports, {counts[1]} desks, "
          f"{counts[2]:,} facilities, database {counts[3]}; loaded in "
          f"{loaded.load_seconds:.0f} s\n")
    samples = args.desks_per_filter * args.values_per_desk
    print(f"Queue, first page of 50: {samples} samples per filter "
          f"({args.desks_per_filter} random desks x {args.values_per_desk} values)\n")
    print_queue(queue)
    print()
    print_case(case, args.case_runs)
    _headlines(queue, case)


def _headlines(queue: dict[str, QueueSamples], case: CaseSamples) -> None:
    select_1 = percentile([t for s in queue.values() for t in s.select_1], .95)
    worst_page = max(percentile(s.page, .95) for s in queue.values())
    worst_both = max(percentile(s.page_and_counts, .95) for s in queue.values())
    emit(Headline("triage", "queue, first page, worst single filter (p95)", worst_page * 1e3,
                  "ms", "< 100 ms", worst_page < 0.1, select_1 * 1e3, "SELECT 1 round trip (p95)"))
    emit(Headline("triage", "queue page + facet counts, worst filter (p95)", worst_both * 1e3,
                  "ms", "< 100 ms", worst_both < 0.1, select_1 * 1e3, "SELECT 1 round trip (p95)"))
    opened, floor = statistics.median(case.open_case), statistics.median(case.bare_open)
    emit(Headline("triage", f"open a case of {case.reports:,} reports (median)", opened * 1e3,
                  "ms", "< 500 ms", max(case.open_case) < 0.5, floor * 1e3,
                  f"{case.reports:,} bare open_sealed"))


if __name__ == "__main__":
    main()
