"""``intake import``: CSV files of facilities, buyers, contracts and coverage are imported
whole or not at all, name every problem by line and column, and import again unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crypto.hierarchy import TEST_FAST
from intake.accounts.service import create_desk
from intake.audit.models import AuditEvent
from intake.db import Database
from intake.supplychain.imports import (
    COUNTRY_CODES,
    LIMITS,
    Counts,
    ImportFileError,
    ImportRejected,
    Kind,
    Limits,
    import_csv,
    parse,
)
from intake.supplychain.models import BuyerOrg, Contract, Coverage, Facility, Supplier
from tests.commands import assert_one_line_error, run_intake
from tests.conftest import wipe

DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parents[2] / "docs" / "import-csv.md"
DESKS = ("Electronics Workers Union", "Centro de Apoyo Laboral")
HEADER = {
    Kind.FACILITIES: "name,country_code,poster_code",
    Kind.BUYERS: "name,contact_email,share_identity",
    Kind.CONTRACTS: "buyer,facility,start_date,end_date",
    Kind.COVERAGE: "desk,facility",
}
MODEL = {Kind.FACILITIES: Facility, Kind.BUYERS: BuyerOrg, Kind.CONTRACTS: Contract,
         Kind.COVERAGE: Coverage}
# What each good file needs stored before it.
BEFORE = {Kind.FACILITIES: (), Kind.BUYERS: (), Kind.COVERAGE: (Kind.FACILITIES,),
          Kind.CONTRACTS: (Kind.FACILITIES, Kind.BUYERS)}
ROWS = {Kind.FACILITIES: 4, Kind.BUYERS: 3, Kind.CONTRACTS: 4, Kind.COVERAGE: 3}


# --- helpers ----------------------------------------------------------------------------


def load(db: Database, kind: Kind, data: bytes | str) -> Counts:
    """Import ``data`` (or the fixture file of that name) in a transaction of its own."""
    if isinstance(data, str):
        data = (DATA / data).read_bytes()
    with db.transaction() as session:
        return import_csv(session, kind, data)


def load_good(db: Database, kind: Kind) -> Counts:
    for needed in BEFORE[kind]:
        load(db, needed, f"{needed}.csv")
    return load(db, kind, f"{kind}.csv")


def rejected(db: Database, kind: Kind, data: bytes | str) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        load(db, kind, data)
    return [str(error) for error in caught.value.errors]


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def add_desks(session: Session, names: tuple[str, ...] = DESKS) -> None:
    for name in names:
        create_desk(session, name=name, country=None, profile=TEST_FAST)


def csv_bytes(kind: Kind, *rows: str) -> bytes:
    return "\n".join((HEADER[kind], *rows, "")).encode()


@pytest.fixture
def desks(db: Database) -> None:
    with db.transaction() as session:
        add_desks(session)


# --- good files -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
def test_a_good_file_of_each_kind_creates_every_row(
    db: Database, desks: None, kind: Kind
) -> None:
    assert load_good(db, kind) == Counts(created=ROWS[kind],
                                         new_suppliers=2 if kind is Kind.FACILITIES else 0)
    assert count(db, MODEL[kind]) == ROWS[kind]


@pytest.mark.parametrize("kind", list(Kind))
def test_importing_the_same_file_again_changes_nothing(
    db: Database, desks: None, kind: Kind
) -> None:
    load_good(db, kind)
    assert load(db, kind, f"{kind}.csv") == Counts(unchanged=ROWS[kind])
    assert count(db, MODEL[kind]) == ROWS[kind]


def test_facility_values_are_stored_normalised_with_new_suppliers_in_their_country(
    db: Database,
) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    with db.transaction() as session:
        kulim = session.scalars(select(Facility).where(Facility.name.like("Kulim%"))).one()
        assert (kulim.country, kulim.poster_code, kulim.os_id) == ("MY", "MY5307", None)
        assert kulim.address == "Lot 5, Kulim Hi-Tech Park, Kedah"
        assert (kulim.sector, kulim.worker_band) == ("Semiconductors", "500-999")
        assert kulim.supplier is not None and kulim.supplier.name == "Kestrel Components Ltd"
        bac_ninh = session.scalars(select(Facility).where(Facility.poster_code == "VN3021")).one()
        assert bac_ninh.supplier_id is None and bac_ninh.worker_band == "5000+"
        suppliers = dict(session.execute(select(Supplier.name, Supplier.country)).all())
    assert suppliers == {"Kestrel Components Ltd": "MY", "Norte Manufacturing Services": "MX"}


def test_buyer_values_are_stored_with_share_identity_as_a_boolean(db: Database) -> None:
    load(db, Kind.BUYERS, "buyers.csv")
    with db.transaction() as session:
        stored = {b.name: (b.contact_email, b.share_identity)
                  for b in session.scalars(select(BuyerOrg))}
    assert stored == {
        "City of Westhaven Council": ("procurement@westhaven.example", True),
        "Northfield University": ("ethics@northfield.example", False),
        "Eastmoor Hospital Trust": (None, False),
    }


def test_a_contract_names_its_facility_by_either_code_and_defaults_to_its_supplier(
    db: Database,
) -> None:
    load_good(db, Kind.CONTRACTS)
    with db.transaction() as session:
        rows = session.execute(
            select(BuyerOrg.name, Facility.poster_code, Supplier.name, Contract.starts_on,
                   Contract.ends_on)
            .join(BuyerOrg, BuyerOrg.id == Contract.buyer_id)
            .join(Facility, Facility.id == Contract.facility_id)
            .outerjoin(Supplier, Supplier.id == Contract.supplier_id)
            .order_by(Facility.poster_code)
        ).all()
    assert [(r[1], r[2], str(r[3]), r[4] and str(r[4])) for r in rows] == [
        ("MX3318", "Norte Manufacturing Services", "2025-01-01", "2028-12-31"),
        ("MY4821", "Kestrel Components Ltd", "2025-01-01", "2028-12-31"),
        ("MY5307", "Kestrel Components Ltd", "2025-03-01", None),
        ("VN3021", None, "2024-07-01", "2026-06-30"),
    ]


def test_a_changed_row_updates_that_record_only(db: Database) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    changed = (DATA / "facilities.csv").read_text("utf-8").replace("1000-4999", "5000+")
    assert load(db, Kind.FACILITIES, changed.encode()) == Counts(updated=1, unchanged=3)
    with db.transaction() as session:
        band = session.scalar(select(Facility.worker_band)
                              .where(Facility.poster_code == "MY4821"))
    assert band == "5000+"


def test_a_column_left_out_of_the_header_keeps_what_is_stored(db: Database) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    renamed = csv_bytes(Kind.FACILITIES, "Kulim Wafer Test Plant 2,MY,MY5307")
    assert load(db, Kind.FACILITIES, renamed) == Counts(updated=1)
    with db.transaction() as session:
        kulim = session.scalars(select(Facility).where(Facility.poster_code == "MY5307")).one()
        assert kulim.name == "Kulim Wafer Test Plant 2"
        assert (kulim.worker_band, kulim.sector) == ("500-999", "Semiconductors")
        assert kulim.supplier_id is not None


def test_an_open_supply_hub_id_is_given_to_the_facility_with_that_poster_code(
    db: Database,
) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    data = (b"os_id,name,country_code,poster_code\n"
            b"MY2019000KUL1MM,Kulim Wafer Test Plant,MY,MY5307\n")
    assert load(db, Kind.FACILITIES, data) == Counts(updated=1)
    assert count(db, Facility) == ROWS[Kind.FACILITIES]
    with db.transaction() as session:
        os_id = session.scalar(select(Facility.os_id).where(Facility.poster_code == "MY5307"))
    assert os_id == "MY2019000KUL1MM"


def test_an_open_supply_hub_export_with_bom_semicolons_and_extra_columns_is_imported(
    db: Database,
) -> None:
    assert load(db, Kind.FACILITIES, "facilities-oshub.csv") == Counts(created=2)
    with db.transaction() as session:
        stored = {f.os_id: (f.name, f.country, f.poster_code, f.address, f.sector)
                  for f in session.scalars(select(Facility))}
    assert stored == {
        "MY2024117ABC1DE": ("Penang Circuit Assembly Sdn Bhd", "MY", "MY4821",
                            "Plot 12, Bayan Lepas Free Industrial Zone 1, 11900 Penang",
                            "Electronics"),
        "TH2021088LMN7OP": ('Ayutthaya Hard Drive Components; Plant "B"', "TH", "TH1187",
                            "Rojana Industrial Park, Ayutthaya", "Electronics|Metal"),
    }


def test_an_export_updates_the_facilities_a_file_of_ours_created(db: Database) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    counts = load(db, Kind.FACILITIES, "facilities-oshub.csv")
    assert counts == Counts(created=1, updated=1)  # TH1187 is new
    with db.transaction() as session:
        penang = session.scalars(select(Facility).where(Facility.poster_code == "MY4821")).one()
        assert penang.address == "Plot 12, Bayan Lepas Free Industrial Zone 1, 11900 Penang"
        # The export has no worker_band or supplier column: what we stored is kept.
        assert penang.worker_band == "1000-4999" and penang.supplier_id is not None


def test_a_tab_separated_file_with_crlf_line_ends_is_imported(db: Database) -> None:
    data = b"name\tcontact_email\r\nCity of Westhaven Council\tp@westhaven.example\r\n"
    assert load(db, Kind.BUYERS, data) == Counts(created=1)


@pytest.mark.parametrize("data", [
    # Rows of different lengths: csv.Sniffer gives up, and only tabs split the header.
    b"name\tcountry_code\tposter_code\taddress\nA, Inc\tMY\tMY0001\nB, Inc\tMY\tMY0002\t1, Rd\n",
    # ...here commas in a column name would split it too, but only ";" gives our columns.
    b"name;country_code;poster_code;Workers, total, men, women, other\nA;MY;MY0001\n"
    b"B;MY;MY0002;9\n",
])
def test_the_delimiter_is_found_when_the_sniffer_cannot_tell(data: bytes) -> None:
    parsed = parse(Kind.FACILITIES, data)
    assert parsed.errors == ()
    assert [(row.name, row.poster_code) for row in parsed.rows] == [
        ("A" + (", Inc" if b"\t" in data else ""), "MY0001"),
        ("B" + (", Inc" if b"\t" in data else ""), "MY0002"),
    ]


def test_a_quoted_value_may_span_lines_and_later_lines_keep_their_numbers(
    db: Database,
) -> None:
    data = csv_bytes(Kind.FACILITIES, '"Penang\nCircuit",MY,MY4821', "Kulim,XX,MY5307")
    assert rejected(db, Kind.FACILITIES, data) == [
        "line 2, column name: \"Penang\\x0aCircuit\" contains a line break or control character",
        'line 4, column country_code: "XX" is not an ISO 3166-1 country code',
    ]


def test_every_documented_example_imports_cleanly(db: Database) -> None:
    sections = re.findall(r"^## (\w+)\n.*?```csv\n(.*?)```", DOCS.read_text("utf-8"),
                          re.MULTILINE | re.DOTALL)
    assert [name for name, _ in sections] == ["facilities", "buyers", "contracts", "coverage"]
    with db.transaction() as session:
        add_desks(session, ("Electronics Workers Union of Malaysia", "Centro de Apoyo Laboral"))
    for name, example in sections:
        rows = len(example.strip().splitlines()) - 1
        assert load(db, Kind(name), example.encode()).created == rows, name


def test_an_import_is_one_audit_event_with_its_counts(db: Database) -> None:
    load(db, Kind.BUYERS, "buyers.csv")
    load(db, Kind.BUYERS, "buyers.csv")
    with db.transaction() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.detail, AuditEvent.actor_id)
                                 .order_by(AuditEvent.id)).all()
    assert [tuple(event) for event in events] == [
        ("import.buyers", "created=3 updated=0 unchanged=0", None),
        ("import.buyers", "created=0 updated=0 unchanged=3", None),
    ]


# --- bad rows ---------------------------------------------------------------------------


def test_a_facilities_file_with_bad_rows_writes_nothing_and_lists_every_problem(
    db: Database,
) -> None:
    assert rejected(db, Kind.FACILITIES, "facilities-bad.csv") == [
        'line 3, column country_code: "XX" is not an ISO 3166-1 country code',
        'line 4, column os_id: "MY2024117ABC1DE" appears again (first on line 2)',
        "line 5, column name: a value is required",
        'line 5, column poster_code: "MY77-12X" is not a poster code '
        "(two letters and four digits, like MY4821)",
        'line 5, column worker_band: "about 1000" is not one of '
        "1-99, 100-499, 500-999, 1000-4999, 5000+",
        'line 6, column poster_code: "MY4821" appears again (first on line 2)',
    ]
    assert count(db, Facility) == count(db, Supplier) == count(db, AuditEvent) == 0


def test_a_contracts_file_with_bad_rows_writes_nothing_and_lists_every_problem(
    db: Database,
) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    load(db, Kind.BUYERS, "buyers.csv")
    assert rejected(db, Kind.CONTRACTS, "contracts-bad.csv") == [
        'line 3, column facility: no facility has the Open Supply Hub id or poster code '
        '"ZZ9999"',
        'line 4, column buyer: no buyer is named "Westhaven City" (names must match exactly)',
        'line 5, column start_date: "2025-02-30" is not a date written YYYY-MM-DD',
        "line 6, column end_date: 2024-12-31 is before the start_date 2025-03-01",
        "line 7: has the same buyer, facility and start_date as line 2",
    ]
    assert count(db, Contract) == 0


@pytest.mark.parametrize(("kind", "row", "problem"), [
    (Kind.FACILITIES, "Plant,EU,MY4821", 'column country_code: "EU" is not an ISO 3166-1'),
    (Kind.FACILITIES, "Plant,XK,MY4821", 'column country_code: "XK" is not an ISO 3166-1'),
    (Kind.FACILITIES, "Plant,,MY4821", "column country_code: a value is required"),
    (Kind.FACILITIES, "Plant,MY,", "column poster_code: a value is required"),
    (Kind.FACILITIES, "Plant,MY,M14821", 'column poster_code: "M14821" is not a poster code'),
    (Kind.FACILITIES, "P" * 201 + ",MY,MY4821", '…" is longer than 200 characters'),
    (Kind.FACILITIES, "Plant,MY,MY4821,a,b", "line 2: has 5 values but the header names 3 "
                                            "columns (is a comma inside a value not in quotes?)"),
    (Kind.BUYERS, "City,city-at-example.org,yes", 'column contact_email: "city-at-example.org"'),
    (Kind.BUYERS, "City,,maybe", 'column share_identity: "maybe" is not yes/no'),
    (Kind.BUYERS, ",a@b.example,no", "column name: a value is required"),
    (Kind.CONTRACTS, "Buyer,MY4821,,", "column start_date: a value is required"),
    (Kind.CONTRACTS, "Buyer,MY4821,01/02/2025,", 'column start_date: "01/02/2025" is not a date'),
    (Kind.CONTRACTS, "Buyer,MY4821,20250101,", 'column start_date: "20250101" is not a date'),
    (Kind.CONTRACTS, "Buyer,MY4821,2025-01-01,2025-13-01", 'column end_date: "2025-13-01"'),
    (Kind.CONTRACTS, "Buyer,,2025-01-01,", "column facility: a value is required"),
    (Kind.COVERAGE, ",MY4821", "column desk: a value is required"),
])
def test_a_bad_value_is_named_by_line_and_column(
    kind: Kind, row: str, problem: str
) -> None:
    parsed = parse(kind, csv_bytes(kind, row))
    assert parsed.rows == ()
    assert [e for e in map(str, parsed.errors) if e.startswith("line 2") and problem in e], \
        parsed.errors


@pytest.mark.parametrize(("kind", "row", "problem"), [
    (Kind.CONTRACTS, "Nobody,MY4821,2025-01-01,", 'column buyer: no buyer is named "Nobody"'),
    (Kind.CONTRACTS, "Northfield University,MY9999,2025-01-01,", 'column facility: no facility'),
    (Kind.COVERAGE, "Nobody's Desk,MY4821", "column desk: no desk is named \"Nobody's Desk\""),
    (Kind.COVERAGE, f"{DESKS[0]},MX0000", 'column facility: no facility has the Open Supply'),
])
def test_a_name_that_is_not_stored_is_refused(
    db: Database, desks: None, kind: Kind, row: str, problem: str
) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    load(db, Kind.BUYERS, "buyers.csv")
    assert [f"line 2, {problem}"] == [error[:len(problem) + 8]
                                      for error in rejected(db, kind, csv_bytes(kind, row))]


def test_a_poster_code_of_another_facility_is_refused(db: Database) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    taken = b"os_id,name,country_code,poster_code\nMY2019000NEW1AA,New Plant,MY,MY4821\n"
    assert rejected(db, Kind.FACILITIES, taken) == [
        'line 2, column poster_code: "MY4821" is the poster code of another facility, '
        '"Penang Circuit Assembly Sdn Bhd"'
    ]


def test_two_rows_for_one_stored_facility_are_refused(db: Database) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    both = (b"os_id,name,country_code,poster_code\n,Penang,MY,MY4821\n"
            b"MY2024117ABC1DE,Penang Circuit Assembly,MY,MY9999\n")
    assert rejected(db, Kind.FACILITIES, both) == [
        'line 3: describes the same facility as line 2, "Penang Circuit Assembly Sdn Bhd"'
    ]


def test_the_same_coverage_twice_in_a_file_is_refused(db: Database, desks: None) -> None:
    load(db, Kind.FACILITIES, "facilities.csv")
    twice = csv_bytes(Kind.COVERAGE, f"{DESKS[0]},MY4821", f"{DESKS[0]},MY2024117ABC1DE")
    assert rejected(db, Kind.COVERAGE, twice) == [
        "line 3: has the same desk and facility as line 2"
    ]


def test_countries_are_iso_3166_codes_from_babel() -> None:
    assert len(COUNTRY_CODES) == 249
    assert {"MY", "MX", "VN", "TH", "CN", "NP", "MM", "BD", "CZ", "PH"} <= COUNTRY_CODES
    assert not {"EU", "UN", "XK", "ZZ", "QO", "UK", "AC"} & COUNTRY_CODES


# --- bad files --------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "limits", "problem"), [
    (b"", LIMITS, "the file is empty"),
    (b"\xef\xbb\xbf\r\n , ,\r\n", LIMITS, "the file is empty"),
    (b"name,country_code,poster_code\n", LIMITS, "line 1: the file has a header but no rows"),
    (b"name,address\nPlant,Penang\n", LIMITS,
     "line 1: the header lacks the required columns country_code, poster_code"),
    (b"name,country_code,poster_code,NAME\nPlant,MY,MY4821,x\n", LIMITS,
     "line 1: the header names the column name twice"),
    (b"name,country_code,poster_code\nPlant,MY,MY4821\nCaf\xe9,MY,MY4822\n", LIMITS,
     "line 3: byte 0xE9 is not UTF-8"),
    (b"\xef\xbb\xbfname,country_code,poster_code\nK\xf6ln,DE,DE0001\n", LIMITS,
     "line 2: byte 0xF6 is not UTF-8"),
    ("name,country_code,poster_code\n".encode("utf-16"), LIMITS, "the file is UTF-16"),
    (b"PK\x03\x04\x14\x00\x06\x00", LIMITS, "the file is a spreadsheet workbook"),
    (b'name,country_code,poster_code\nPlant,MY,MY4821\n"Kulim,MY,MY5307\nX,MY,MY5308\n',
     LIMITS, "line 3: a quoted value starts in this row and is never closed"),
    (b'name,country_code,poster_code\n"Plant" A,MY,MY4821\n', LIMITS,
     "line 2: a closing quote is followed by more text"),
    (b"name,country_code,poster_code\nA,MY,MY0001\nB,MY,MY0002\nC,MY,MY0003\n",
     Limits(max_rows=2), "the file has more than 2 rows"),
    (b"name,country_code,poster_code\nA,MY,MY0001\n", Limits(max_bytes=32),
     "the file is larger than 32 bytes"),
])
def test_a_file_that_cannot_be_read_is_refused_in_one_line(
    data: bytes, limits: Limits, problem: str
) -> None:
    with pytest.raises(ImportFileError) as caught:
        parse(Kind.FACILITIES, data, limits=limits)
    assert str(caught.value).startswith(problem)
    assert "\n" not in str(caught.value)


def test_the_limits_are_20_mib_and_100000_rows() -> None:
    assert (LIMITS.max_bytes, LIMITS.max_rows) == (20 * 1024 * 1024, 100_000)


def test_the_row_limit_allows_exactly_that_many_rows() -> None:
    data = b"name,country_code,poster_code\nA,MY,MY0001\nB,MY,MY0002\n"
    assert len(parse(Kind.FACILITIES, data, limits=Limits(max_rows=2)).rows) == 2


# --- the command ------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, migrated_engine: Engine) -> Iterator[dict[str, str]]:
    wipe(migrated_engine)
    yield {"INTAKE_INSTANCE": str(tmp_path / "instance"), "INTAKE_DATABASE_URL": database_url,
           "INTAKE_FAST_KDF": "1"}
    wipe(migrated_engine)


def stored(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def test_the_command_imports_each_kind_and_a_second_run_is_unchanged(
    cli_env: dict[str, str], migrated_engine: Engine
) -> None:
    with Session(migrated_engine) as session, session.begin():
        add_desks(session)
    for kind in (Kind.FACILITIES, Kind.BUYERS, Kind.CONTRACTS, Kind.COVERAGE):
        first = run_intake(["import", kind, str(DATA / f"{kind}.csv")], cli_env)
        assert first.returncode == 0, first.stderr
        assert f"{kind} from {kind}.csv: {ROWS[kind]} created, 0 updated, 0 unchanged" \
            in first.stdout
        again = run_intake(["import", kind, str(DATA / f"{kind}.csv")], cli_env)
        assert again.returncode == 0, again.stderr
        assert f"0 created, 0 updated, {ROWS[kind]} unchanged" in again.stdout
        assert stored(migrated_engine, MODEL[kind]) == ROWS[kind]


def test_the_command_lists_every_bad_row_then_a_summary_and_writes_nothing(
    cli_env: dict[str, str], migrated_engine: Engine
) -> None:
    result = run_intake(["import", "facilities", str(DATA / "facilities-bad.csv")], cli_env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "line 3, column country_code", "line 4, column os_id", "line 5, column name",
        "line 5, column poster_code", "line 5, column worker_band", "line 6, column poster_code",
    ]
    assert lines[-1] == ("Error: nothing was imported from facilities-bad.csv: 6 problems on "
                         "4 lines; correct them and import the whole file again")
    assert stored(migrated_engine, Facility) == stored(migrated_engine, AuditEvent) == 0


def test_the_command_imports_an_open_supply_hub_export(
    cli_env: dict[str, str], migrated_engine: Engine
) -> None:
    result = run_intake(["import", "facilities", str(DATA / "facilities-oshub.csv")], cli_env)
    assert result.returncode == 0, result.stderr
    assert "2 created" in result.stdout
    assert stored(migrated_engine, Facility) == 2


@pytest.mark.parametrize(("content", "needles"), [
    (b"name,country_code,poster_code\nCaf\xe9,MY,MY4822\n",
     ("bad.csv", "line 2: byte 0xE9 is not UTF-8")),
    (b'name,country_code,poster_code\n"Plant,MY,MY4821\n',
     ("bad.csv", "line 2: a quoted value starts in this row and is never closed")),
    (b"", ("bad.csv", "the file is empty")),
    (b"name;poster_code\nPlant;MY4821\n", ("lacks the required column country_code",)),
    (None, ("cannot read", "bad.csv")),
])
def test_the_command_refuses_an_unreadable_file_in_one_line(
    cli_env: dict[str, str], tmp_path: Path, content: bytes | None, needles: tuple[str, ...]
) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    result = run_intake(["import", "facilities", str(path)], cli_env)
    assert result.returncode == 1
    assert_one_line_error(result, *needles)


def test_the_command_states_its_limits(cli_env: dict[str, str]) -> None:
    result = run_intake(["import", "--help"], cli_env)
    assert result.returncode == 0
    assert f"{LIMITS.max_rows:,} rows" in " ".join(result.stdout.split())
    assert f"{LIMITS.max_bytes // (1024 * 1024)} MiB" in result.stdout


# --- other names ------------------------------------------------------------------------


OTHER_NAMES_HEADER = "name,country_code,poster_code,other_names"


def other_names(db: Database, code: str) -> list[str] | None:
    with db.transaction() as session:
        return session.scalars(select(Facility.other_names)
                               .where(Facility.poster_code == code)).one()


def test_other_names_are_kept_once_each_without_the_facilitys_own_name(db: Database) -> None:
    data = "\n".join((OTHER_NAMES_HEADER,
                      "Penang Circuit Assembly,MY,MY4821,"
                      '"槟城电路装配厂 | पेनाङ सर्किट कारखाना|槟城电路装配厂||'
                      'Penang Circuit Assembly"',
                      "Kulim Wafer Test Plant,MY,MY5307,", ""))
    assert load(db, Kind.FACILITIES, data.encode()) == Counts(created=2)
    assert other_names(db, "MY4821") == ["槟城电路装配厂", "पेनाङ सर्किट कारखाना"]
    assert other_names(db, "MY5307") is None
    assert load(db, Kind.FACILITIES, data.encode()) == Counts(unchanged=2)


def test_other_names_change_clear_or_stay_as_the_file_says(db: Database) -> None:
    load(db, Kind.FACILITIES, "\n".join((OTHER_NAMES_HEADER,
                                         "Penang Circuit Assembly,MY,MY4821,槟城|Pulau Pinang",
                                         "")).encode())
    load(db, Kind.FACILITIES, csv_bytes(Kind.FACILITIES, "Penang Circuit Assembly,MY,MY4821"))
    assert other_names(db, "MY4821") == ["槟城", "Pulau Pinang"]  # column absent: kept
    assert load(db, Kind.FACILITIES, "\n".join((
        OTHER_NAMES_HEADER, "Penang Circuit Assembly,MY,MY4821,槟城电路", "")).encode()
    ) == Counts(updated=1)
    assert other_names(db, "MY4821") == ["槟城电路"]
    load(db, Kind.FACILITIES, "\n".join((OTHER_NAMES_HEADER,
                                         "Penang Circuit Assembly,MY,MY4821,", "")).encode())
    assert other_names(db, "MY4821") is None  # an empty cell clears them


@pytest.mark.parametrize(("cell", "problem"), [
    ("槟城|" + "x" * 201, "is longer than 200 characters"),
    ("|".join(f"name {n}" for n in range(21)), "has 21 names; at most 20 are kept"),
])
def test_too_long_or_too_many_other_names_are_refused(cell: str, problem: str) -> None:
    parsed = parse(Kind.FACILITIES, "\n".join((
        OTHER_NAMES_HEADER, f"Penang Circuit Assembly,MY,MY4821,{cell}", "")).encode())
    assert parsed.rows == ()
    assert [str(e) for e in parsed.errors if "column other_names" in str(e)
            and problem in str(e)], parsed.errors
