"""A signed-in monitor's form posts with arbitrary values (the triage decision, a case
note): a redirect or a page with the reason, never a 5xx."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from intake.db import Database
from intake.once import new_nonce
from intake.reports.models import Severity, TriageStatus
from tests.fuzz.conftest import Recorder, sized_text
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.monitor.test_api import case_of

EXAMPLES = 60
any_text = sized_text(200)


def triage_fields(ids: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional={
        "category": st.one_of(st.sampled_from(["wages", "safety", "forced_labour"]), any_text),
        "severity": st.one_of(st.sampled_from([s.value for s in Severity]), any_text),
        "tags": sized_text(1000),
        "assignee": st.one_of(st.sampled_from(["none", "0", "-1", "99999999999999999999"]),
                              st.integers().map(str), any_text),
        "status": st.one_of(st.sampled_from([s.value for s in TriageStatus]), any_text),
        "reason": st.one_of(st.sampled_from(["duplicate", "not_labour", "spam"]), any_text),
        "duplicate_of": st.one_of(st.sampled_from(ids), st.uuids().map(str), any_text),
    })


def test_triage_decision_with_arbitrary_values_never_fails(
    browser: Browser, desks: DeskWorld, db: Database, record_cases: Recorder
) -> None:
    report_id, _ = submit(db, desks.factory_a, "Our wages were cut without notice.")
    other_id, _ = submit(db, desks.factory_a, "The same wage cut, from another line.")
    assert browser.login(desks.alice).status_code == 302
    page = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    assert browser.get(page).status_code == 200
    seen = 0
    statuses: set[int] = set()

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(triage_fields([report_id, other_id, str(uuid.uuid4())]))
    def run(fields: dict[str, str]) -> None:
        nonlocal seen
        seen += 1
        if "tags" in fields:
            fields["tags"] = fields["tags"]
        response = browser.post(f"{page}/triage", fields)
        statuses.add(response.status_code)
        assert response.status_code in (303, 400, 413), (response.status_code, fields)

    run()
    assert 303 in statuses, "some decisions reached the handler (CSRF and session held)"
    record_cases("monitor triage decide", seen, EXAMPLES)


def test_triage_decision_one_arbitrary_field_at_a_time_never_fails(
    browser: Browser, desks: DeskWorld, db: Database, record_cases: Recorder
) -> None:
    """Each field alone, so a bad value is not hidden behind another field's refusal."""
    report_id, _ = submit(db, desks.factory_a, "Our wages were cut without notice.")
    assert browser.login(desks.alice).status_code == 302
    page = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    assert browser.get(page).status_code == 200
    seen = 0

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.sampled_from(["category", "severity", "tags", "assignee", "status", "reason",
                            "duplicate_of"]), any_text)
    def run(name: str, value: str) -> None:
        nonlocal seen
        seen += 1
        response = browser.post(f"{page}/triage", {name: value})
        assert response.status_code in (303, 400, 413), (response.status_code, name, value)

    run()
    record_cases("monitor triage decide, one field", seen, EXAMPLES)


def test_case_note_with_arbitrary_text_never_fails(
    browser: Browser, desks: DeskWorld, db: Database, record_cases: Recorder
) -> None:
    report_id, _ = submit(db, desks.factory_a, "Overtime is compulsory and unpaid.")
    case_id = case_of(db, desks.a, desks.factory_a.id, report_id, desks.alice)
    assert browser.login(desks.alice).status_code == 302
    page = f"/monitor/d/{desks.a.desk.id}/cases/{case_id}"
    assert browser.get(page).status_code == 200
    seen = 0
    statuses: set[int] = set()

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.fixed_dictionaries({}, optional={
        "text": sized_text(20000),
        "nonce": st.one_of(st.builds(new_nonce), any_text)}))
    def run(fields: dict[str, str]) -> None:
        nonlocal seen
        seen += 1
        response = browser.post(f"{page}/notes", {"nonce": new_nonce(), **fields})
        statuses.add(response.status_code)
        assert response.status_code in (303, 400, 413), (response.status_code, fields)

    run()
    assert 303 in statuses, "some notes were saved (CSRF and session held)"
    record_cases("monitor case note", seen, EXAMPLES)
