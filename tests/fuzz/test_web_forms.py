"""The worker's pages with arbitrary form values: the report steps and the follow-up page
answer with a page (200, 400, 413 or 429), never a 5xx."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from flask import Flask
from hypothesis import given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from intake.db import Database
from intake.once import new_nonce
from tests.fuzz.conftest import Recorder, sized_text
from tests.monitor.conftest import submit
from tests.web.conftest import Worker, World

EXAMPLES = 80
PAGE_STATUSES = (200, 400, 413, 429)  # 413: the body limit

STEPS = ["workplace", "what", "details", "contact", "review"]
any_text = sized_text(200)


def addresses() -> Iterator[str]:
    """A new client address per case, so the per-address limits never hide a crash."""
    for n in itertools.count(1):
        yield f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


def report_fields(world_ids: list[str]) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {"step": st.one_of(st.sampled_from(STEPS), any_text)},
        optional={
            "go": st.one_of(st.sampled_from(["next", "back", "send"]), any_text),
            "facility": st.one_of(st.sampled_from([*world_ids, "not-listed", "0", "-1"]),
                                  any_text),
            "q": st.one_of(st.sampled_from(["MY4821", "Penang", "%", "_"]), any_text),
            "category": st.lists(st.one_of(st.sampled_from(["wages", "safety", "hours"]),
                                           any_text), max_size=4),
            "details": sized_text(6000),
            "contact": st.one_of(st.sampled_from(["web", "sms", "none"]), any_text),
            "number": st.one_of(st.sampled_from(["+60123456789", "0123456789"]), any_text),
            "nonce": any_text,
            "csrf_token": any_text,
        },
    )


def test_report_steps_with_arbitrary_fields_never_fail(
    app: Flask, world: World, record_cases: Recorder
) -> None:
    ids = [str(world.penang.id), str(world.tijuana.id), str(world.bangkok.id)]
    worker = Worker(app.test_client())
    worker.get("/en/report")
    where = addresses()
    seen = 0
    statuses: set[int] = set()

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(report_fields(ids), st.sampled_from(["en", "th", "xx", "my"]))
    def run(fields: dict[str, object], lang: str) -> None:
        nonlocal seen
        seen += 1
        worker.environ = {"REMOTE_ADDR": next(where)}
        path = f"/{lang}/report"
        token = fields.pop("csrf_token", worker.token)
        response = worker.client.post(path, data={"csrf_token": token, **fields},
                                      environ_base=worker.environ)
        statuses.add(response.status_code)
        assert response.status_code in (*PAGE_STATUSES, 404), (response.status_code, fields)

    run()
    assert 200 in statuses, "some steps were accepted (the CSRF token held)"
    record_cases("web /<lang>/report", seen, EXAMPLES)


def test_followup_with_arbitrary_fields_never_fails(
    app: Flask, world: World, db: Database, record_cases: Recorder
) -> None:
    _, receipt = submit(db, world.penang, "The supervisor keeps our passports.")
    worker = Worker(app.test_client())
    worker.get("/en/followup")
    where = addresses()
    seen = 0

    @fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(st.fixed_dictionaries(
        {"receipt": st.one_of(st.just(receipt), st.just(" ".join(
            receipt[i:i + 4] for i in range(0, 16, 4))), st.text(max_size=80))},
        optional={
            "action": st.one_of(st.sampled_from(["add", "verdict", ""]), any_text),
            "message": sized_text(6000),
            "verdict": st.one_of(st.sampled_from(["resolved", "not_resolved", "partly"]),
                                 any_text),
            "comment": sized_text(2000),
            "nonce": st.one_of(st.builds(new_nonce), any_text),
            "csrf_token": any_text,
        }))
    def run(fields: dict[str, str]) -> None:
        nonlocal seen
        seen += 1
        worker.environ = {"REMOTE_ADDR": next(where)}
        token = fields.pop("csrf_token", worker.token)
        response = worker.client.post("/en/followup", data={"csrf_token": token, **fields},
                                      environ_base=worker.environ)
        assert response.status_code in PAGE_STATUSES, (response.status_code, fields)

    run()
    record_cases("web /en/followup", seen, EXAMPLES)
