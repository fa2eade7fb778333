"""Fuzzing at the edges: every test counts the cases Hypothesis (or schemathesis) generated
and the counts are written at the end of the run, so CI output shows how much was tried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.monitor.conftest import browser, desks, other_browser
from tests.sms.conftest import settings, sms_world, twilio
from tests.web.conftest import world

__all__ = ["browser", "desks", "other_browser", "settings", "sms_world", "twilio", "world"]

COUNTS: dict[str, int] = {}
Recorder = Callable[..., None]  # (name, cases seen, cases asked for or None)


def record(name: str, seen: int, expected: int | None = None) -> None:
    """Keep the number of cases one test ran; with ``expected``, insist all of them ran."""
    COUNTS[name] = COUNTS.get(name, 0) + seen
    if expected is not None:
        assert seen == expected, f"{name}: {seen} cases ran, {expected} were asked for"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not COUNTS:
        return
    terminalreporter.section("fuzz: generated cases")
    for name, seen in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{name}: {seen}")
    terminalreporter.write_line(f"total: {sum(COUNTS.values())}")


@pytest.fixture
def record_cases(record_property: Any) -> Recorder:
    def keep(name: str, seen: int, expected: int | None = None) -> None:
        record_property(f"generated_cases[{name}]", seen)
        record(name, seen, expected)

    return keep


def sized_text(max_size: int) -> Any:
    """Arbitrary text, and text of any length up to ``max_size`` (Hypothesis alone keeps
    strings short, so limits at hundreds or thousands of characters would go untried)."""
    from hypothesis import strategies as st

    repeated = st.tuples(st.text(min_size=1, max_size=8), st.integers(0, max_size)).map(
        lambda pair: (pair[0] * pair[1])[: pair[1]])
    awkward = st.text(alphabet=st.sampled_from("\x00\x01\x7f\r\n\t\u2028\ufeff\u202e<>&'\"%;,"),
                      max_size=20)  # NUL, controls, line separators, BOM, markup
    return st.one_of(st.text(max_size=200), repeated, awkward)

