"""The numbers behind the desk and buyer dashboards.

Every query is an aggregate (GROUP BY) over a bounded window, and every count leaves this
module already gated: a count below k is carried only as the text "<k", never as a number,
so no template, chart or CSV can show it by mistake (DESIGN 2: counts suppressed below k).
Medians are computed from per-day histograms (GROUP BY the two dates), portable across
SQLite and PostgreSQL, and shown only when at least k cases or reports stand behind them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Subquery, extract, func, literal, select, union_all
from sqlalchemy import case as when
from sqlalchemy.orm import InstrumentedAttribute, Session

from intake.accounts.models import Desk
from intake.alerts.models import Alert
from intake.cases.models import Case, CaseStatus
from intake.cases.service import STATUS_LABELS
from intake.i18n import country_label
from intake.remedy.models import Verdict, WorkerVerdict
from intake.reports.models import ReportDesk
from intake.retention.models import ReportTally
from intake.supplychain.models import Facility
from intake.triage.taxonomy import DESK_CATEGORIES

DEFAULT_K = 3
MONTHS = 12  # the window of the monthly series (and of report counts)
TOP_FACILITIES = 10
MAX_VERDICT_CASES = 50  # the buyer's per-case verdict table shows the latest cases only
MAX_FLAGS = 100

VERDICTS = (Verdict.YES, Verdict.PARTLY, Verdict.NO)
VERDICT_LABELS = {Verdict.YES: "Yes", Verdict.PARTLY: "Partly", Verdict.NO: "No"}
NOT_GIVEN = "Not given"


@dataclass(frozen=True)
class Cell:
    """One count as it may be shown: ``count`` is None when it was below k."""

    label: str
    count: int | None
    shown: str

    @property
    def suppressed(self) -> bool:
        return self.count is None


def gate(label: str, count: int, k: int) -> Cell:
    """The k-anonymity gate: a count below k becomes "<k" and its number is dropped."""
    if count < k:
        return Cell(label, None, f"<{k}")
    return Cell(label, count, str(count))


@dataclass(frozen=True)
class Series:
    key: str  # stable name, used in the CSV and as the chart's element id
    title: str
    unit: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Duration:
    key: str
    label: str
    items: Cell  # how many cases or reports the median is taken over (gated)
    median_days: str  # "—" when fewer than k stand behind it


@dataclass(frozen=True)
class VerdictRow:
    label: str
    cells: tuple[Cell, Cell, Cell]  # yes, partly, no


@dataclass(frozen=True)
class Flag:
    """A case closed as remedied although most workers who answered said "no"."""

    case_id: uuid.UUID
    label: str
    closed_on: dt.date | None


@dataclass(frozen=True)
class Dashboard:
    k: int
    since: dt.date
    series: tuple[Series, ...]
    durations: tuple[Duration, ...]
    verdict_title: str
    verdicts: tuple[VerdictRow, ...]
    flags: tuple[Flag, ...]


def window_start(today: dt.date, months: int = MONTHS) -> dt.date:
    """The first day of the month ``months - 1`` months before ``today``'s month."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def month_labels(today: dt.date, months: int = MONTHS) -> list[str]:
    start = window_start(today, months)
    first = start.year * 12 + start.month - 1
    return [f"{(first + i) // 12:04d}-{(first + i) % 12 + 1:02d}" for i in range(months)]


def _monthly(rows: Iterable[tuple[object, object, int]], today: dt.date, k: int) -> tuple[
        Cell, ...]:
    counts = {f"{int(str(y)):04d}-{int(str(m)):02d}": int(n) for y, m, n in rows}
    return tuple(gate(label, counts.get(label, 0), k) for label in month_labels(today))


def category_label(code: object) -> str | None:
    """The category's name as the desk's taxonomy gives it (an unknown code as it is)."""
    return None if code is None else DESK_CATEGORIES.get(str(code), str(code))


def _named(rows: Iterable[tuple[object, int]]) -> list[tuple[object, int]]:
    return [(category_label(code), n) for code, n in rows]


def _countries(rows: Iterable[tuple[object, int]]) -> list[tuple[object, int]]:
    return [(country_label(str(code)) if code is not None else None, n) for code, n in rows]


def _ranked(rows: Iterable[tuple[object, int]], k: int) -> tuple[Cell, ...]:
    """Largest first; suppressed cells after them by label, so their order tells nothing."""
    cells = [gate(str(label) if label is not None else NOT_GIVEN, int(n), k)
             for label, n in rows]
    shown = sorted((c for c in cells if not c.suppressed), key=lambda c: (-(c.count or 0),
                                                                          c.label))
    hidden = sorted((c for c in cells if c.suppressed), key=lambda c: c.label)
    return tuple(shown + hidden)


def _median_of(histogram: Sequence[tuple[int, int]]) -> float:
    """The median of values given as (value, how many times)."""
    total = sum(n for _, n in histogram)
    ordered = sorted(histogram)

    def nth(index: int) -> int:
        seen = 0
        for value, n in ordered:
            seen += n
            if index < seen:
                return value
        raise IndexError(index)

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def _duration(key: str, label: str, pairs: Iterable[tuple[object, object, int]],
              k: int) -> Duration:
    histogram: dict[int, int] = {}
    for start, end, n in pairs:
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            days = (end - start).days
            histogram[days] = histogram.get(days, 0) + int(n)
    total = sum(histogram.values())
    items = gate(label, total, k)
    if items.suppressed or not histogram:
        return Duration(key, label, items, "—")
    median = _median_of(list(histogram.items()))
    return Duration(key, label, items, f"{median:g}")


def _pairs(session: Session, start: InstrumentedAttribute[dt.date | None] |
           InstrumentedAttribute[dt.date], end: InstrumentedAttribute[dt.date | None],
           *where: object) -> list[tuple[object, object, int]]:
    query = (select(start, end, func.count()).where(end.is_not(None), *where)  # type: ignore[arg-type]
             .group_by(start, end))
    return [(a, b, n) for a, b, n in session.execute(query).all()]


# --- the desk's dashboard ---------------------------------------------------------------------


def desk_dashboard(session: Session, *, desk_id: int, k: int, today: dt.date) -> Dashboard:
    """This desk's reports (last 12 months), cases, times and worker verdicts."""
    since = window_start(today)
    in_window = (ReportDesk.desk_id == desk_id, ReportDesk.received_on >= since)
    counted = _counted_reports(desk_id, since)
    total = func.sum(counted.c.n)
    year, month = extract("year", counted.c.received_on), extract("month", counted.c.received_on)
    by_month = session.execute(select(year, month, total).group_by(year, month)).all()
    by_category = session.execute(
        select(counted.c.category, total).group_by(counted.c.category)).all()
    by_facility = session.execute(
        select(Facility.name, total).select_from(counted)
        .outerjoin(Facility, Facility.id == counted.c.facility_id)
        .group_by(counted.c.facility_id, Facility.name)
        .order_by(total.desc(), Facility.name).limit(TOP_FACILITIES)).all()
    by_country = session.execute(
        select(Facility.country, total).select_from(counted)
        .outerjoin(Facility, Facility.id == counted.c.facility_id)
        .group_by(Facility.country)).all()
    by_status = {status: int(n) for status, n in session.execute(
        select(Case.status, func.count()).where(Case.desk_id == desk_id)
        .group_by(Case.status)).all()}
    series = (
        Series("reports_by_month", "Reports by month received", "reports",
               _monthly(by_month, today, k)),
        Series("reports_by_category", "Reports by category", "reports",
               _ranked(_named(by_category), k)),
        Series("reports_by_facility", f"Reports by workplace (top {TOP_FACILITIES})",
               "reports", _ranked(by_facility, k)),
        Series("reports_by_country", "Reports by country", "reports",
               _ranked(_countries(by_country), k)),
        Series("cases_by_status", "Cases by status (all time)", "cases",
               tuple(gate(label, by_status.get(status, 0), k)
                     for status, label in STATUS_LABELS.items())),
    )
    cases = (Case.desk_id == desk_id,)
    durations = (
        _duration("report_to_triage", "Report received → first opened by the desk",
                  _pairs(session, ReportDesk.received_on, ReportDesk.opened_on, *in_window)
                  + _tallied_triage(session, desk_id, since), k),
        _duration("case_to_alert", "Case opened → buyers alerted",
                  _pairs(session, Case.opened_on, Case.alerted_on, *cases), k),
        _duration("alert_to_remedy", "Buyers alerted → remedied",
                  _pairs(session, Case.alerted_on, Case.remedied_on, *cases), k),
    )
    verdict_rows = session.execute(
        select(Case.status, WorkerVerdict.verdict, func.count())
        .join(Case, Case.id == WorkerVerdict.case_id).where(*cases)
        .group_by(Case.status, WorkerVerdict.verdict)).all()
    tally: dict[CaseStatus, dict[Verdict, int]] = {}
    for status, verdict, n in verdict_rows:
        tally.setdefault(status, {})[verdict] = int(n)
    verdicts = tuple(_verdict_row(label, tally[status], k)
                     for status, label in STATUS_LABELS.items() if status in tally)
    return Dashboard(k=k, since=since, series=series, durations=durations,
                     verdict_title="Worker verdicts by case status", verdicts=verdicts,
                     flags=_flags(session, Case.desk_id == desk_id))


def _counted_reports(desk_id: int, since: dt.date) -> Subquery:
    """The desk's reports in the window, one row each, and the tallies retention left of
    the reports it deleted (``n`` reports per row), so deleting changes no count."""
    live = select(ReportDesk.received_on.label("received_on"),
                  ReportDesk.category.label("category"),
                  ReportDesk.facility_id.label("facility_id"), literal(1).label("n")).where(
        ReportDesk.desk_id == desk_id, ReportDesk.received_on >= since)
    kept = select(ReportTally.month, ReportTally.category, ReportTally.facility_id,
                  ReportTally.count).where(ReportTally.desk_id == desk_id,
                                           ReportTally.month >= since)
    return union_all(live, kept).subquery("counted")


def _tallied_triage(session: Session, desk_id: int,
                    since: dt.date) -> list[tuple[object, object, int]]:
    """(arrival, first opened, n) for deleted reports: the month stands for the arrival day,
    which keeps the gap in days the tally recorded."""
    rows = session.execute(
        select(ReportTally.month, ReportTally.triage_days, func.sum(ReportTally.count))
        .where(ReportTally.desk_id == desk_id, ReportTally.month >= since,
               ReportTally.triage_days.is_not(None))
        .group_by(ReportTally.month, ReportTally.triage_days)).all()
    return [(month, month + dt.timedelta(days=int(days or 0)), int(n)) for month, days, n in rows]


def _verdict_row(label: str, counts: dict[Verdict, int], k: int) -> VerdictRow:
    yes, partly, no = (gate(VERDICT_LABELS[v], counts.get(v, 0), k) for v in VERDICTS)
    return VerdictRow(label, (yes, partly, no))


def _flags(session: Session, *where: object) -> tuple[Flag, ...]:
    """Cases closed as remedied where "no" verdicts are more than half of all verdicts."""
    no_votes = func.sum(when((WorkerVerdict.verdict == Verdict.NO, 1), else_=0))
    rows = session.execute(
        select(Case.id, Facility.name, Case.category, Case.closed_on)
        .join(WorkerVerdict, WorkerVerdict.case_id == Case.id)
        .join(Facility, Facility.id == Case.facility_id)
        .where(Case.status == CaseStatus.CLOSED_REMEDIED, *where)  # type: ignore[arg-type]
        .group_by(Case.id, Facility.name, Case.category, Case.closed_on)
        .having(no_votes * 2 > func.count())
        .order_by(Case.closed_on.desc(), Case.id).limit(MAX_FLAGS)).all()
    return tuple(Flag(case_id, f"{name} — {category_label(category)}", closed_on)
                 for case_id, name, category, closed_on in rows)


# --- the buyer's dashboard --------------------------------------------------------------------


def buyer_dashboard(session: Session, *, buyer_org_id: int, today: dt.date) -> Dashboard:
    """Only cases alerted to this organisation and delivered to it. Counts across cases of
    several desks are gated with the strictest k among those desks; a case's own verdict
    counts with its desk's k."""
    since = window_start(today)
    delivered = (Alert.buyer_org_id == buyer_org_id, Alert.delivered_at.is_not(None))
    desk_ks = dict(session.execute(
        select(Desk.id, Desk.k_threshold).join(Case, Case.desk_id == Desk.id)
        .join(Alert, Alert.case_id == Case.id).where(*delivered).distinct()).all())
    k = max([DEFAULT_K, *[int(v or DEFAULT_K) for v in desk_ks.values()]])

    def scoped(*columns: Any) -> Select[Any]:
        return (select(*columns).select_from(Alert)
                .join(Case, Case.id == Alert.case_id)
                .join(Facility, Facility.id == Case.facility_id).where(*delivered))

    recent = Alert.delivered_at >= dt.datetime.combine(since, dt.time(), dt.UTC)
    month_y, month_m = extract("year", Alert.delivered_at), extract("month", Alert.delivered_at)
    by_month = session.execute(scoped(month_y, month_m, func.count())
                               .where(recent).group_by(month_y, month_m)).all()
    by_category = session.execute(scoped(Case.category, func.count())
                                  .group_by(Case.category)).all()
    by_facility = session.execute(scoped(Facility.name, func.count())
                                  .group_by(Facility.id, Facility.name)
                                  .order_by(func.count().desc(), Facility.name)
                                  .limit(TOP_FACILITIES)).all()
    by_country = session.execute(scoped(Facility.country, func.count())
                                 .group_by(Facility.country)).all()
    series = (
        Series("alerts_by_month", "Alerts by month delivered", "alerts",
               _monthly(by_month, today, k)),
        Series("alerts_by_category", "Alerts by category", "alerts",
               _ranked(_named(by_category), k)),
        Series("alerts_by_facility", f"Alerts by workplace (top {TOP_FACILITIES})", "alerts",
               _ranked(by_facility, k)),
        Series("alerts_by_country", "Alerts by country", "alerts",
               _ranked(_countries(by_country), k)),
    )
    in_scope = Case.id.in_(select(Alert.case_id).where(*delivered))
    durations = (
        _duration("alert_to_remedy", "Buyers alerted → remedied",
                  _pairs(session, Case.alerted_on, Case.remedied_on, in_scope), k),
        _duration("alert_to_close", "Buyers alerted → case closed",
                  _pairs(session, Case.alerted_on, Case.closed_on, in_scope), k),
    )
    return Dashboard(k=k, since=since, series=series, durations=durations,
                     verdict_title="Worker verdicts per case",
                     verdicts=_buyer_verdicts(session, buyer_org_id=buyer_org_id),
                     flags=_flags(session, in_scope))


def _buyer_verdicts(session: Session, *, buyer_org_id: int) -> tuple[VerdictRow, ...]:
    """Each alerted case's verdict counts, gated with that case's desk's k."""
    latest = (select(Alert.case_id, Alert.delivered_at)
              .where(Alert.buyer_org_id == buyer_org_id, Alert.delivered_at.is_not(None))
              .order_by(Alert.delivered_at.desc(), Alert.case_id)
              .limit(MAX_VERDICT_CASES).subquery())
    rows = session.execute(
        select(Case.id, Facility.name, Case.category, latest.c.delivered_at, Desk.k_threshold,
               WorkerVerdict.verdict, func.count())
        .join(latest, latest.c.case_id == Case.id)
        .join(Facility, Facility.id == Case.facility_id)
        .join(Desk, Desk.id == Case.desk_id)
        .join(WorkerVerdict, WorkerVerdict.case_id == Case.id)
        .group_by(Case.id, Facility.name, Case.category, latest.c.delivered_at,
                  Desk.k_threshold, WorkerVerdict.verdict)).all()
    per_case: dict[uuid.UUID, tuple[str, dt.datetime, int, dict[Verdict, int]]] = {}
    for case_id, name, category, delivered_at, k, verdict, n in rows:
        label = f"{name} — {category_label(category)}, alerted {delivered_at:%Y-%m}"
        entry = per_case.setdefault(case_id, (label, delivered_at, int(k or DEFAULT_K), {}))
        entry[3][verdict] = int(n)
    ordered = sorted(per_case.values(), key=lambda e: (e[1], e[0]), reverse=True)
    return tuple(_verdict_row(label, counts, k) for label, _, k, counts in ordered)
