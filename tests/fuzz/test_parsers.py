"""The pure parsers at the edge, on arbitrary input: only their documented outcomes."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.sms.webhook import parse_sender
from crypto.errors import MalformedReceipt
from crypto.receipts import normalize_receipt
from intake.supplychain.imports import COLUMNS, ImportFileError, Kind, Parsed, parse
from tests.fuzz.conftest import Recorder

EXAMPLES = 300

# Text that looks like what arrives: digits of several scripts, separators, plus anything.
DIGITS = "0123456789０１２３٠١٢٣۴۵۶०१२३০১২৩๐๑๒๓၀၁၂၃"
receipt_like = st.one_of(
    st.text(),
    st.text(alphabet=DIGITS + " -.\t\u00a0", max_size=80),
    st.text(alphabet=string.digits, min_size=16, max_size=16),
)
sender_like = st.one_of(
    st.text(),
    st.from_regex(r"\A(whatsapp:)?\+?[0-9 ()\-.]{0,24}\Z"),
    st.sampled_from(["+60123456789", "whatsapp:+60123456789", "+525550000100", "", "+", "0"]),
)


def test_normalize_receipt_gives_16_digits_or_malformed(record_cases: Recorder) -> None:
    seen = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(receipt_like)
    def run(text: str) -> None:
        nonlocal seen
        seen += 1
        try:
            digits = normalize_receipt(text)
        except MalformedReceipt:
            return
        assert len(digits) == 16 and all(c in string.digits for c in digits), repr(digits)

    run()
    record_cases("normalize_receipt", seen, EXAMPLES)


def test_parse_sender_gives_e164_or_none(record_cases: Recorder) -> None:
    seen = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(sender_like)
    def run(raw: str) -> None:
        nonlocal seen
        seen += 1
        parsed = parse_sender(raw)
        if parsed is None:
            return
        number, whatsapp = parsed
        assert whatsapp == raw.startswith("whatsapp:")
        assert number.startswith("+") and number[1:].isascii() and number[1:].isdigit()

    run()
    record_cases("parse_sender", seen, EXAMPLES)


HEADERS = {kind: ",".join(COLUMNS[kind].required + COLUMNS[kind].optional) for kind in Kind}


def csv_like(kind: Kind) -> st.SearchStrategy[bytes]:
    cell = st.one_of(st.text(max_size=30), st.sampled_from(["MY", "MX4821", '"', '""', ";"]))
    row = st.lists(cell, max_size=6).map(lambda cells: ",".join(cells))
    text = st.lists(row, max_size=8).map(lambda rows: "\n".join([HEADERS[kind], *rows]))
    encoded = st.tuples(text, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"])
                        ).map(lambda pair: pair[0].encode(pair[1], errors="replace"))
    return st.one_of(st.binary(max_size=2000), encoded)


def test_csv_import_parse_gives_parsed_or_import_file_error(record_cases: Recorder) -> None:
    seen = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.sampled_from(list(Kind)).flatmap(lambda kind: st.tuples(st.just(kind),
                                                                      csv_like(kind))))
    def run(case: tuple[Kind, bytes]) -> None:
        nonlocal seen
        seen += 1
        kind, data = case
        try:
            parsed = parse(kind, data)
        except ImportFileError:
            return
        assert isinstance(parsed, Parsed) and parsed.kind == kind

    run()
    record_cases("supplychain.imports.parse", seen, EXAMPLES)
