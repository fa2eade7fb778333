"""Importing the supply-chain map from CSV files: check a whole file, then write all of it.

``parse`` reads a file into typed rows and lists every problem with its line and column; it
needs no database. ``apply`` checks the rows against the database (names that must exist,
poster codes another facility holds) and writes them in the caller's transaction only if
nothing at all is wrong. The stdlib ``csv`` module reads the file; the checks are ours
because the columns are. The column sets and rules are documented in docs/import-csv.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from babel import Locale
from sqlalchemy import select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from intake.accounts.models import Desk
from intake.audit.service import record
from intake.errors import IntakeError
from intake.supplychain.models import BuyerOrg, Contract, Coverage, Facility, Supplier
from intake.supplychain.service import POSTER_CODE, normalise_code


class Kind(StrEnum):
    FACILITIES = "facilities"
    BUYERS = "buyers"
    CONTRACTS = "contracts"
    COVERAGE = "coverage"


@dataclass(frozen=True)
class Columns:
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


COLUMNS: dict[Kind, Columns] = {
    Kind.FACILITIES: Columns(("name", "country_code", "poster_code"),
                             ("os_id", "address", "sector", "worker_band", "supplier",
                              "other_names")),
    Kind.BUYERS: Columns(("name",), ("contact_email", "share_identity")),
    Kind.CONTRACTS: Columns(("buyer", "facility", "start_date"),
                            ("supplier", "product_category", "end_date")),
    Kind.COVERAGE: Columns(("desk", "facility"), ()),
}

WORKER_BANDS = ("1-99", "100-499", "500-999", "1000-4999", "5000+")
DELIMITERS = ",;\t"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_TRUE, _FALSE = ("yes", "true", "1"), ("no", "false", "0", "")
# ASCII only: a letter that upper-cases to two (ß to SS) would outgrow the column.
_OS_ID = re.compile(r"[A-Za-z0-9]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SNIFF_CHARS = 64 * 1024
_SHORT = 100  # longest code or date we read before saying it is not one
OTHER_NAMES = 20  # at most, a facility's other names (one per language of its workers, and some)
_IMPORT_LOCK = 0x1A7D18  # any constant other than the audit chain's (intake.audit.service)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 100_000


LIMITS = Limits()


def _iso_3166_alpha2() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes: CLDR's two-letter territories (Babel) without the codes ISO
    reserves or leaves to users (EU, UN, XK, ZZ...), which CLDR also lists."""
    reserved = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "FX", "IC", "SU", "TA", "UK", "UN"}

    def user_assigned(code: str) -> bool:
        return code in {"AA", "ZZ"} or code[0] == "X" or (code[0] == "Q" and code[1] >= "M")

    codes = (str(code) for code in Locale("en").territories)
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha()
                     and code not in reserved and not user_assigned(code))


COUNTRY_CODES = _iso_3166_alpha2()


# --- results and failures -------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: the line where its row starts (the header is line 1) and the column."""

    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


class ImportFileError(IntakeError):
    """The file as a whole cannot be read (size, encoding, quoting, header): one line."""


class ImportRejected(IntakeError):
    """Some rows are wrong, so nothing was written; ``errors`` has every problem, by line."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(sorted(errors, key=lambda error: error.line))
        lines = len({error.line for error in self.errors})
        super().__init__(f"{_plural(len(self.errors), 'problem')} on {_plural(lines, 'line')}")


@dataclass(frozen=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_suppliers: int = 0


@dataclass(frozen=True)
class FacilityRow:
    line: int
    name: str
    country: str
    poster_code: str
    os_id: str | None
    address: str | None
    sector: str | None
    worker_band: str | None
    supplier: str | None
    other_names: list[str] | None


@dataclass(frozen=True)
class BuyerRow:
    line: int
    name: str
    contact_email: str | None
    share_identity: bool


@dataclass(frozen=True)
class ContractRow:
    line: int
    buyer: str
    facility: str
    supplier: str | None
    product_category: str | None
    starts_on: dt.date
    ends_on: dt.date | None


@dataclass(frozen=True)
class CoverageRow:
    line: int
    desk: str
    facility: str


Row = FacilityRow | BuyerRow | ContractRow | CoverageRow
R = TypeVar("R", FacilityRow, BuyerRow, ContractRow, CoverageRow)


@dataclass(frozen=True)
class Parsed:
    """A whole file read: the known columns its header names, its good rows, its problems."""

    kind: Kind
    columns: frozenset[str]
    rows: tuple[Row, ...]
    errors: tuple[RowError, ...]


# --- the whole file -------------------------------------------------------------------------


def import_csv(session: Session, kind: Kind, data: bytes, *, actor_id: int | None = None,
               limits: Limits = LIMITS) -> Counts:
    """Parse ``data`` and write it in the caller's transaction, or raise and write nothing."""
    return apply(session, parse(kind, data, limits=limits), actor_id=actor_id)


def parse(kind: Kind, data: bytes, *, limits: Limits = LIMITS) -> Parsed:
    """Every row of ``data`` as a typed row, or the problems that keep it from being one."""
    table = _read_table(data, COLUMNS[kind], limits=limits)
    parse_row = _PARSERS[kind]
    seen: dict[tuple[str, str], int] = {}
    rows: list[Row] = []
    errors = list(table.problems)
    for record_ in table.records:
        cells = _Cells(record_.line, record_.values, seen)
        row = parse_row(cells)
        errors.extend(cells.errors)
        if row is not None and not cells.errors:
            rows.append(row)
    errors.sort(key=lambda error: error.line)
    return Parsed(kind, table.columns, tuple(rows), tuple(errors))


def apply(session: Session, parsed: Parsed, *, actor_id: int | None = None) -> Counts:
    """Check ``parsed`` against the database; write all of it, or raise ImportRejected."""
    _one_import_at_a_time(session)
    match parsed.kind:
        case Kind.FACILITIES:
            counts = _apply_facilities(session, parsed, _only(parsed.rows, FacilityRow))
        case Kind.BUYERS:
            counts = _apply_buyers(session, parsed, _only(parsed.rows, BuyerRow))
        case Kind.CONTRACTS:
            counts = _apply_contracts(session, parsed, _only(parsed.rows, ContractRow))
        case Kind.COVERAGE:
            counts = _apply_coverage(session, parsed, _only(parsed.rows, CoverageRow))
    session.flush()
    record(session, f"import.{parsed.kind}", actor_id=actor_id, desk_id=None,
           detail=f"created={counts.created} updated={counts.updated} "
                  f"unchanged={counts.unchanged}")
    return counts


def _one_import_at_a_time(session: Session) -> None:
    """Imports check the file against what is stored, then write: two at the same moment
    (the page sent twice, the page and the command) would both find a row missing and both
    add it. PostgreSQL's transaction-scoped advisory lock runs them one after the other, the
    second checking against what the first wrote; SQLite has one writer at a time anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": _IMPORT_LOCK})


def _only(rows: Sequence[Row], kind: type[R]) -> list[R]:
    return [row for row in rows if isinstance(row, kind)]


def _reject_if_any(parsed: Parsed, problems: list[RowError]) -> None:
    if parsed.errors or problems:
        raise ImportRejected([*parsed.errors, *problems])


# --- reading CSV ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class _Table:
    columns: frozenset[str]
    records: tuple[_Record, ...]
    problems: tuple[RowError, ...]


def _read_table(data: bytes, columns: Columns, *, limits: Limits) -> _Table:
    if len(data) > limits.max_bytes:
        raise ImportFileError(f"the file is larger than {_size(limits.max_bytes)}; "
                              "split it into smaller files")
    text = _decode(data)
    if not text.strip():
        raise ImportFileError("the file is empty")
    delimiter = _delimiter(text, columns)
    records = _records(text, delimiter)
    first = next(records, None)
    if first is None:
        raise ImportFileError("the file is empty")
    header_line, header = first
    positions = _header(header_line, header, columns)
    rows: list[_Record] = []
    problems: list[RowError] = []
    for line, cells in records:
        if len(rows) + len(problems) >= limits.max_rows:
            raise ImportFileError(f"the file has more than {limits.max_rows:,} rows; "
                                  "split it into smaller files")
        extra = [cell for cell in cells[len(header):] if cell.strip()]
        if extra:
            problems.append(RowError(line, None, (
                f"has {len(cells)} values but the header names {len(header)} columns "
                f"(is a {_DELIMITER_NAMES[delimiter]} inside a value not in quotes?)")))
            continue
        values = {name: cells[index].strip() for name, index in positions.items()
                  if index < len(cells)}
        rows.append(_Record(line, values))
    if not rows and not problems:
        raise ImportFileError(f"line {header_line}: the file has a header but no rows")
    return _Table(frozenset(positions), tuple(rows), tuple(problems))


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("the file is UTF-16, not UTF-8: save it as \"CSV UTF-8\"")
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError("the file is a spreadsheet workbook, not CSV: "
                              "save it as \"CSV UTF-8\"")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        decoded = exc.object  # without the BOM: the offsets count from here
        line = decoded[:exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"line {line}: byte 0x{decoded[exc.start]:02X} is not UTF-8 (the file is in "
            "another encoding, perhaps Windows-1252): save it as \"CSV UTF-8\"") from None


def _delimiter(text: str, columns: Columns) -> str:
    """What csv.Sniffer finds among comma, semicolon and tab, unless only another of them
    splits the first line into the required columns (the sniffer guesses from a sample)."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # "could not determine": rows of different lengths, say
        sniffed = DELIMITERS[0]
    first_line = next(line for line in io.StringIO(text, newline="") if line.strip())
    for candidate in (sniffed, *(d for d in DELIMITERS if d != sniffed)):
        try:
            names = {cell.strip().lower() for cell in next(csv.reader([first_line],
                                                                      delimiter=candidate))}
        except (csv.Error, StopIteration):
            continue
        if set(columns.required) <= names:
            return candidate
    return sniffed


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on (a quoted value may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(_quoting_problem(start, reader.line_num, str(exc))) from None
        if any(cell.strip() for cell in cells):
            yield start, cells


def _quoting_problem(start: int, line: int, message: str) -> str:
    if "unexpected end of data" in message:
        return f"line {start}: a quoted value starts in this row and is never closed"
    if "expected after" in message:
        return (f"line {line}: a closing quote is followed by more text; put the whole value "
                "in quotes and write a quote inside it as two quotes (\"\")")
    if "field larger than field limit" in message:
        return (f"line {start}: a value is longer than {csv.field_size_limit():,} characters "
                "(is a quote left open?)")
    return f"line {start}: cannot be read as CSV ({message})"


def _header(line: int, cells: list[str], columns: Columns) -> dict[str, int]:
    """Known column name -> position. Names are matched without case or surrounding spaces;
    unknown columns (an Open Supply Hub export has many) are ignored."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = cell.strip().lower()
        if name not in columns.known:
            continue
        if name in positions:
            raise ImportFileError(f"line {line}: the header names the column {name} twice")
        positions[name] = index
    missing = [name for name in columns.required if name not in positions]
    if missing:
        raise ImportFileError(
            f"line {line}: the header lacks the required column{'s' if len(missing) > 1 else ''}"
            f" {', '.join(missing)} (required: {', '.join(columns.required)}; "
            f"optional: {', '.join(columns.optional) or 'none'})")
    return positions


# --- checking one row -----------------------------------------------------------------------


def _length(attribute: Any) -> int:
    """The VARCHAR length of a model column: what fits here fits the database."""
    return int(attribute.property.columns[0].type.length)


@dataclass
class _Cells:
    """One row's values by column; collects every problem instead of stopping at the first."""

    line: int
    values: dict[str, str]
    seen: dict[tuple[str, str], int]
    errors: list[RowError] = field(default_factory=list)

    def problem(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))

    def text(self, column: str, max_length: int, *, required: bool = False) -> str | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.problem(column, "a value is required")
            return None
        if len(value) > max_length:
            self.problem(column, f"{_shown(value)} is longer than {max_length} characters")
            return None
        if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in value):
            self.problem(column, f"{_shown(value)} contains a line break or control character")
            return None
        return value

    def unique(self, column: str, key: str, shown: str) -> None:
        first = self.seen.setdefault((column, key), self.line)
        if first != self.line:
            self.problem(column, f"{_shown(shown)} appears again (first on line {first})")

    def country(self, column: str) -> str | None:
        value = self.text(column, _SHORT, required=True)
        if value is None:
            return None
        if value.upper() not in COUNTRY_CODES:
            self.problem(column, f"{_shown(value)} is not an ISO 3166-1 country code")
            return None
        return value.upper()

    def poster_code(self, column: str) -> str | None:
        value = self.text(column, _length(Facility.poster_code), required=True)
        if value is None:
            return None
        code = normalise_code(value)
        if not POSTER_CODE.fullmatch(code):
            self.problem(column, f"{_shown(value)} is not a poster code "
                                 "(two letters and four digits, like MY4821)")
            return None
        self.unique(column, code, value)
        return code

    def os_id(self, column: str) -> str | None:
        value = self.text(column, _length(Facility.os_id))
        if value is None:
            return None
        if not _OS_ID.fullmatch(value):
            self.problem(column, f"{_shown(value)} is not an Open Supply Hub id "
                                 "(letters A to Z and digits only)")
            return None
        self.unique(column, value.upper(), value)
        return value.upper()

    def names(self, column: str, *, besides: str | None) -> list[str] | None:
        """Names separated by ``|``, each kept once and none the same as ``besides``."""
        limit = _length(Facility.name)
        value = self.text(column, (limit + 1) * OTHER_NAMES)
        if value is None:
            return None
        kept: list[str] = []
        for part in value.split("|"):
            name = part.strip()
            if len(name) > limit:
                self.problem(column, f"{_shown(name)} is longer than {limit} characters")
                return None
            if name and name != besides and name not in kept:
                kept.append(name)
        if len(kept) > OTHER_NAMES:
            self.problem(column, f"has {len(kept)} names; at most {OTHER_NAMES} are kept")
            return None
        return kept or None

    def choice(self, column: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(column, _SHORT)
        if value is None:
            return None
        cleaned = value.replace(" ", "").replace("\u2013", "-")
        if cleaned not in choices:
            self.problem(column, f"{_shown(value)} is not one of {', '.join(choices)}")
            return None
        return cleaned

    def boolean(self, column: str) -> bool:
        value = self.values.get(column, "")
        if value.lower() not in _TRUE + _FALSE:
            self.problem(column, f"{_shown(value)} is not yes/no, true/false or 1/0")
        return value.lower() in _TRUE

    def email(self, column: str) -> str | None:
        limit = _length(BuyerOrg.contact_email)
        value = self.text(column, limit)
        if value is None:
            return None
        if not _EMAIL.fullmatch(value):
            self.problem(column, f"{_shown(value)} is not an e-mail address")
            return None
        lowered = value.lower()
        if len(lowered) > limit:  # "İ" lower-cases to two characters
            self.problem(column, f"{_shown(value)} is longer than {limit} characters "
                                 "in lower case")
            return None
        return lowered

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        value = self.text(column, _SHORT, required=required)
        if value is None:
            return None
        if _DATE.fullmatch(value):  # fromisoformat alone also takes 20250101 and 2025-W01
            with suppress(ValueError):
                return dt.date.fromisoformat(value)
        self.problem(column, f"{_shown(value)} is not a date written YYYY-MM-DD")
        return None


def _facility_row(cells: _Cells) -> FacilityRow | None:
    name = cells.text("name", _length(Facility.name), required=True)
    country = cells.country("country_code")
    poster_code = cells.poster_code("poster_code")
    os_id = cells.os_id("os_id")
    address = cells.text("address", _length(Facility.address))
    sector = cells.text("sector", _length(Facility.sector))
    worker_band = cells.choice("worker_band", WORKER_BANDS)
    supplier = cells.text("supplier", _length(Supplier.name))
    other_names = cells.names("other_names", besides=name)
    if name is None or country is None or poster_code is None:
        return None
    return FacilityRow(cells.line, name, country, poster_code, os_id, address, sector,
                       worker_band, supplier, other_names)


def _buyer_row(cells: _Cells) -> BuyerRow | None:
    name = cells.text("name", _length(BuyerOrg.name), required=True)
    if name is not None:
        cells.unique("name", name, name)
    email = cells.email("contact_email")
    share = cells.boolean("share_identity")
    return BuyerRow(cells.line, name, email, share) if name else None


def _contract_row(cells: _Cells) -> ContractRow | None:
    buyer = cells.text("buyer", _length(BuyerOrg.name), required=True)
    facility = cells.text("facility", _length(Facility.os_id), required=True)
    supplier = cells.text("supplier", _length(Supplier.name))
    category = cells.text("product_category", _length(Contract.product_category))
    starts_on = cells.date("start_date", required=True)
    ends_on = cells.date("end_date")
    if starts_on and ends_on and ends_on < starts_on:
        cells.problem("end_date", f"{ends_on.isoformat()} is before the start_date "
                                  f"{starts_on.isoformat()}")
    if buyer is None or facility is None or starts_on is None:
        return None
    return ContractRow(cells.line, buyer, facility, supplier, category, starts_on, ends_on)


def _coverage_row(cells: _Cells) -> CoverageRow | None:
    desk = cells.text("desk", _length(Desk.name), required=True)
    facility = cells.text("facility", _length(Facility.os_id), required=True)
    return CoverageRow(cells.line, desk, facility) if desk and facility else None


_PARSERS: dict[Kind, Callable[[_Cells], Row | None]] = {
    Kind.FACILITIES: _facility_row,
    Kind.BUYERS: _buyer_row,
    Kind.CONTRACTS: _contract_row,
    Kind.COVERAGE: _coverage_row,
}


# --- checking against the database and writing ----------------------------------------------


def _apply_facilities(session: Session, parsed: Parsed, rows: list[FacilityRow]) -> Counts:
    existing = list(session.scalars(select(Facility)))
    by_os_id = {f.os_id.upper(): f for f in existing if f.os_id}
    by_code = {normalise_code(f.poster_code): f for f in existing}
    problems: list[RowError] = []
    plan: list[tuple[FacilityRow, Facility | None]] = []
    claimed: dict[int, int] = {}
    for row in rows:
        holder = by_code.get(row.poster_code)
        target = by_os_id.get(row.os_id) if row.os_id else None
        if target is None and holder is not None:
            target = holder
            if row.os_id and holder.os_id:  # the code is another Open Supply Hub facility's
                target = None
        if holder is not None and holder is not target:
            problems.append(RowError(row.line, "poster_code", (
                f"{_shown(row.poster_code)} is the poster code of another facility, "
                f"{_shown(holder.name)}")))
            continue
        if target is not None:
            first = claimed.setdefault(target.id, row.line)
            if first != row.line:
                problems.append(RowError(row.line, None, (
                    f"describes the same facility as line {first}, {_shown(target.name)}")))
                continue
        plan.append((row, target))
    _reject_if_any(parsed, problems)

    suppliers = {s.name: s for s in session.scalars(select(Supplier))}
    new_suppliers = 0
    for row, _target in plan:
        if row.supplier and row.supplier not in suppliers:
            suppliers[row.supplier] = Supplier(name=row.supplier, country=row.country)
            session.add(suppliers[row.supplier])
            new_suppliers += 1
    session.flush()

    created = updated = 0
    for row, target in plan:
        values: dict[str, object] = {"name": row.name, "country": row.country,
                                     "poster_code": row.poster_code}
        if row.os_id:
            values["os_id"] = row.os_id
        for column in ("address", "sector", "worker_band", "other_names"):
            if column in parsed.columns:
                values[column] = getattr(row, column)
        if "supplier" in parsed.columns:
            values["supplier_id"] = suppliers[row.supplier].id if row.supplier else None
        if target is None:
            session.add(Facility(**values))
            created += 1
        elif _update(target, values):
            updated += 1
    return Counts(created, updated, len(plan) - created - updated, new_suppliers)


def _apply_buyers(session: Session, parsed: Parsed, rows: list[BuyerRow]) -> Counts:
    _reject_if_any(parsed, [])
    existing = {b.name: b for b in session.scalars(select(BuyerOrg))}
    created = updated = 0
    for row in rows:
        values: dict[str, object] = {"name": row.name}
        if "contact_email" in parsed.columns:
            values["contact_email"] = row.contact_email
        if "share_identity" in parsed.columns:
            values["share_identity"] = row.share_identity
        target = existing.get(row.name)
        if target is None:
            session.add(BuyerOrg(**{"share_identity": False, **values}))
            created += 1
        elif _update(target, values):
            updated += 1
    return Counts(created, updated, len(rows) - created - updated)


@dataclass(frozen=True)
class _Place:
    """A facility as another file names it: by Open Supply Hub id or poster code."""

    id: int
    supplier_id: int | None


def _places(session: Session) -> dict[str, _Place]:
    places: dict[str, _Place] = {}
    query = select(Facility.id, Facility.os_id, Facility.poster_code, Facility.supplier_id)
    for facility in session.execute(query):
        place = _Place(facility.id, facility.supplier_id)
        places[normalise_code(facility.poster_code)] = place
        if facility.os_id:
            places[normalise_code(facility.os_id)] = place
    return places


def _find(names: dict[str, int], name: str, *, line: int, column: str,
          problems: list[RowError]) -> int | None:
    found = names.get(name)
    if found is None:
        problems.append(RowError(line, column, f"no {column} is named {_shown(name)} "
                                               "(names must match exactly)"))
    return found


def _place(places: dict[str, _Place], row: ContractRow | CoverageRow,
           problems: list[RowError]) -> _Place | None:
    found = places.get(normalise_code(row.facility))
    if found is None:
        problems.append(RowError(row.line, "facility", (
            f"no facility has the Open Supply Hub id or poster code {_shown(row.facility)}")))
    return found


def _apply_contracts(session: Session, parsed: Parsed, rows: list[ContractRow]) -> Counts:
    buyers = {b.name: b.id for b in session.execute(select(BuyerOrg.name, BuyerOrg.id))}
    suppliers = {s.name: s.id for s in session.execute(select(Supplier.name, Supplier.id))}
    places = _places(session)
    problems: list[RowError] = []
    plan: list[tuple[ContractRow, tuple[int, int, dt.date], int | None]] = []
    keys: dict[tuple[int, int, dt.date], int] = {}
    for row in rows:
        buyer_id = _find(buyers, row.buyer, line=row.line, column="buyer", problems=problems)
        place = _place(places, row, problems)
        supplier_id = (_find(suppliers, row.supplier, line=row.line, column="supplier",
                             problems=problems) if row.supplier else None)
        if buyer_id is None or place is None or (row.supplier and supplier_id is None):
            continue
        key = (buyer_id, place.id, row.starts_on)
        first = keys.setdefault(key, row.line)
        if first != row.line:
            problems.append(RowError(row.line, None, (
                f"has the same buyer, facility and start_date as line {first}")))
            continue
        plan.append((row, key, supplier_id or place.supplier_id))
    _reject_if_any(parsed, problems)

    existing = {(c.buyer_id, c.facility_id, c.starts_on): c for c in session.scalars(
        select(Contract).where(Contract.buyer_id.in_(sorted({key[0] for _r, key, _s in plan}))))}
    created = updated = 0
    for row, key, supplier_id in plan:
        values: dict[str, object] = {}
        if "supplier" in parsed.columns or key not in existing:
            values["supplier_id"] = supplier_id
        if "product_category" in parsed.columns:
            values["product_category"] = row.product_category
        if "end_date" in parsed.columns:
            values["ends_on"] = row.ends_on
        target = existing.get(key)
        if target is None:
            session.add(Contract(buyer_id=key[0], facility_id=key[1], starts_on=key[2],
                                 **values))
            created += 1
        elif _update(target, values):
            updated += 1
    return Counts(created, updated, len(plan) - created - updated)


def _apply_coverage(session: Session, parsed: Parsed, rows: list[CoverageRow]) -> Counts:
    desks = {d.name: d.id for d in session.execute(select(Desk.name, Desk.id))}
    places = _places(session)
    problems: list[RowError] = []
    keys: dict[tuple[int, int], int] = {}
    for row in rows:
        desk_id = _find(desks, row.desk, line=row.line, column="desk", problems=problems)
        place = _place(places, row, problems)
        if desk_id is None or place is None:
            continue
        first = keys.setdefault((desk_id, place.id), row.line)
        if first != row.line:
            problems.append(RowError(row.line, None, f"has the same desk and facility as line "
                                                     f"{first}"))
    _reject_if_any(parsed, problems)

    existing = {(c.desk_id, c.facility_id) for c in session.execute(
        select(Coverage.desk_id, Coverage.facility_id))}
    new = [key for key in keys if key not in existing]
    session.add_all(Coverage(desk_id=desk_id, facility_id=facility_id)
                    for desk_id, facility_id in new)
    return Counts(created=len(new), unchanged=len(keys) - len(new))


def _update(target: object, values: dict[str, object]) -> bool:
    """Set the values that differ; say whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


# --- wording --------------------------------------------------------------------------------


def _shown(value: str, limit: int = 60) -> str:
    """A value quoted for a one-line message: shortened, control characters escaped."""
    short = value if len(value) <= limit else value[:limit] + "…"
    visible = "".join(char if unicodedata.category(char) not in {"Cc", "Zl", "Zp"}
                      else f"\\x{ord(char):02x}" for char in short)
    return f'"{visible}"'


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MiB" if limit >= 1024 * 1024 else f"{limit:,} bytes"
