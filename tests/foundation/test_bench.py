"""``bench/run.py`` gathers the benchmarks' headline figures into BENCHMARKS.md's table
(no timing here: only that what a benchmark prints ends up in the table, unchanged)."""

from __future__ import annotations

import pytest

from bench.run import BENCHES, Outcome, render, summary_table
from bench.summary import Headline, emit, parse

SMS = Headline("sms", "SMS webhook saturation throughput", 250.0, "req/s",
               "≥ 50% of the INSERT baseline's", False, 1000.0, "INSERT + COMMIT endpoint",
               ratio_of="baseline/value")
SEAL = Headline("crypto", "seal (median)", 180.0, "µs", "≤ 2.00x", True, 160.0, "2 bare HPKE")


def test_a_headline_printed_by_a_benchmark_is_read_back_unchanged(capsys) -> None:  # type: ignore[no-untyped-def]
    emit(SMS)
    line = capsys.readouterr().out.strip()
    assert parse(line) == SMS
    assert parse("| a table row |") is None


def test_the_summary_shows_value_baseline_ratio_and_an_unmet_target() -> None:
    outcome = Outcome(BENCHES[2], 30.0, "| table |", [SMS])
    row = summary_table([outcome])[-1]
    assert "250 req/s" in row and "1,000 req/s (INSERT + COMMIT endpoint)" in row
    assert "| 25% |" in row  # throughput as a share of the baseline's
    assert row.endswith("| **no** |")


def test_a_cost_reads_as_a_multiple_of_its_floor() -> None:
    row = summary_table([Outcome(BENCHES[0], 1.0, "", [SEAL])])[-1]
    assert "| 1.12x |" in row and row.endswith("| yes |")


def test_the_page_counts_met_targets_and_names_a_benchmark_that_did_not_finish() -> None:
    done = Outcome(BENCHES[0], 1.0, "| crypto table |", [SEAL])
    broken = Outcome(BENCHES[3], 1.0, "", [], failed="exit 1: database unreachable")
    page = render([done, broken], {"CPU cores": "2"}, quick=False, started="2026-11-25 20:00")
    assert "1 of 1 headline figures meet their targets" in page
    assert "did not finish: exit 1: database unreachable" in page
    assert "| CPU cores | 2 |" in page and "| crypto table |" in page


def test_wrk_latencies_are_read_in_their_own_units() -> None:
    from bench.sms import _field, _wrk_seconds

    report = ("  Latency Distribution\n     50%  812.00us\n     75%    2.10ms\n"
              "     99%    1.02s\n  24571 requests in 10.00s, 4.12MB read\n"
              "Requests/sec:   2456.75\n")
    assert [_wrk_seconds(_field(report, rf"\s{q}%\s+([\d.]+\w+)")) for q in (50, 75, 99)] == \
        pytest.approx([812e-6, 2.1e-3, 1.02])
    assert _field(report, r"(\d+) requests in") == "24571"
    with pytest.raises(RuntimeError, match="printed no"):
        _field(report, r"Non-2xx or 3xx responses: (\d+)")
