"""The monitors' JSON API: arbitrary JSON bodies on the write routes (only 2xx/4xx, errors
as JSON), and schemathesis over the whole OpenAPI document with a real token (no 5xx, every
response as documented)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok

from intake.db import Database
from tests.fuzz.conftest import Recorder, sized_text
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.monitor.test_api import PREFIX, Api, case_of, make_token

EXAMPLES = 80
SCHEMA_EXAMPLES = 25

# JSON's \u escapes can spell half a surrogate pair, which Hypothesis's text never holds
# (a 500 until session 10); json.dumps writes these as escapes, and a whole pair joins up.
surrogates = st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud83d", "\ud83d\ude4f"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | sized_text(3000) | surrogates,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)


def triage_bodies(ids: list[str]) -> st.SearchStrategy[Any]:
    named = st.dictionaries(
        st.sampled_from(["category", "severity", "tags", "assignee_id", "status",
                         "no_action_reason", "duplicate_of"]),
        st.one_of(json_values, st.sampled_from([*ids, "serious", "in_triage", "wages"]),
                  st.lists(st.text(max_size=40), max_size=12)),
        max_size=7,
    )
    return st.one_of(named, json_values, raw_bodies.map(Raw))


class Raw(bytes):
    """A body sent as it is, JSON or not."""


raw_bodies = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                       st.sampled_from([b"{", b'{"text": "a"', b"[" * 5000, b"NaN", b""]))


def encoded(body: Any) -> bytes:
    return bytes(body) if isinstance(body, Raw) else json.dumps(body).encode()


def check_answer(response: Any, body: Any) -> None:
    status = response.status_code
    assert 200 <= status < 500 and not 300 <= status < 400, (status, body)
    assert response.mimetype == "application/json", (status, body)
    answer = response.get_json()
    if status >= 400:
        assert isinstance(answer, dict) and isinstance(answer.get("error"), str), answer


@pytest.fixture
def api(app: Flask, browser: Browser, desks: DeskWorld) -> Api:
    return Api(app.test_client(), make_token(browser, desks.alice, desks.a.desk.id))


def test_triage_patch_with_arbitrary_json_never_fails(
    api: Api, desks: DeskWorld, db: Database, record_cases: Recorder
) -> None:
    report_id, _ = submit(db, desks.factory_a, "We are locked in the dormitory at night.")
    other_id, _ = submit(db, desks.factory_b, "A report of the other desk.")
    seen = 0

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(triage_bodies([report_id, other_id]), st.sampled_from([report_id, other_id, "x"]))
    def run(body: Any, target: str) -> None:
        nonlocal seen
        seen += 1
        if isinstance(body, dict) and "tags" in body:
            body["tags"] = body["tags"]
        check_answer(api.call("PATCH", f"/reports/{target}", data=encoded(body)), body)

    run()
    record_cases("api PATCH /reports/{id}", seen, EXAMPLES)


def test_triage_patch_one_field_at_a_time_never_fails(
    api: Api, desks: DeskWorld, db: Database, record_cases: Recorder
) -> None:
    """Each field alone (a string, or a list of strings as tags takes), so a bad value is
    not hidden behind another field's refusal."""
    report_id, _ = submit(db, desks.factory_a, "We are locked in the dormitory at night.")
    seen = 0

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.sampled_from(sorted(["category", "severity", "tags", "assignee_id", "status",
                                   "no_action_reason", "duplicate_of"])),
           st.one_of(sized_text(300), surrogates, st.lists(surrogates, min_size=1),
                     st.lists(sized_text(60), min_size=1, max_size=12), json_values))
    def run(name: str, value: Any) -> None:
        nonlocal seen
        seen += 1
        body = {name: value}
        check_answer(api.call("PATCH", f"/reports/{report_id}", data=encoded(body)), body)

    run()
    record_cases("api PATCH /reports/{id}, one field", seen, EXAMPLES)


def test_reply_post_with_arbitrary_json_never_fails(
    api: Api, desks: DeskWorld, db: Database, record_cases: Recorder
) -> None:
    report_id, _ = submit(db, desks.factory_a, "The fire exit is chained shut.",
                          number="+60123456789")
    seen = 0

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.one_of(st.fixed_dictionaries({"text": st.one_of(st.text(max_size=2000),
                                                              surrogates, json_values)}),
                     json_values, raw_bodies.map(Raw)))
    def run(body: Any) -> None:
        nonlocal seen
        seen += 1
        check_answer(api.call("POST", f"/reports/{report_id}/replies", data=encoded(body)),
                     body)

    run()
    record_cases("api POST /reports/{id}/replies", seen, EXAMPLES)


def test_schemathesis_over_the_openapi_document(
    app: Flask, api: Api, desks: DeskWorld, db: Database, record_cases: Recorder
) -> None:
    report_id, _ = submit(db, desks.factory_a, "Wages are paid late every month.")
    case_of(db, desks.a, desks.factory_a.id, report_id, desks.alice)
    schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)
    headers = {"Authorization": f"Bearer {api.token}"}
    counts: dict[str, int] = {}
    answered: dict[str, set[int]] = {}
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), [
        result.err() for result in results if not isinstance(result, Ok)]
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert operations, "the document describes no operation"
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        answered[label] = set()
        counts[label] = fuzz_operation(operation, headers, answered[label])
    for label, seen in counts.items():
        record_cases(f"schemathesis {label}", seen)
        assert seen > 0, label
    # the token was taken: the listings answered 200 rather than 401 every time
    assert 200 in answered["GET /queue"] and 200 in answered["GET /cases"], answered


def fuzz_operation(operation: Any, headers: dict[str, str], statuses: set[int]) -> int:
    """Run schemathesis' cases for one operation; the number of cases that ran."""
    seen = 0

    @fuzz_settings(max_examples=SCHEMA_EXAMPLES, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        nonlocal seen
        seen += 1
        response = case.call(headers=headers)
        statuses.add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error,
                                                 response_schema_conformance])

    run()
    return seen
