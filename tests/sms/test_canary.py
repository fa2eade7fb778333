"""A canary text and phone number sent by SMS rest nowhere in the clear: not in the database,
Redis, job payloads or logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask

from intake.settings import Settings
from tests.leaks import database_bytes, folder_bytes, found_in, redis_bytes
from tests.sms.conftest import Phone, SmsWorld, run_jobs

CANARIES = {
    "words": "CANARY-SMS supervisor Tan took passport of worker 17",
    "more": "CANARY-SMS-2 dormitory room B-214",
    "number": "+60129876543",
}


def rq_job_payloads(redis_url: str | None) -> bytes:
    """RQ stores job data compressed: decode every job's arguments to search them."""
    if not redis_url:
        return b""
    from redis import Redis
    from rq.job import Job

    client = Redis.from_url(redis_url)
    chunks = []
    for key in client.scan_iter(match="rq:job:*"):
        job_id = key.decode().split(":", 2)[2]
        job = Job.fetch(job_id, connection=client)
        chunks.append(json.dumps([job.func_name, job.args, job.kwargs], default=str))
    return "\n".join(chunks).encode()


def test_sms_canaries_are_nowhere_at_rest(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask, sms_settings: Settings,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payloads: list[dict[str, Any]] = []
    queue = sms_app.extensions["intake.jobs"]
    original, coalesced = queue.enqueue, queue.enqueue_coalesced
    monkeypatch.setattr(queue, "enqueue", lambda function, /, **ids: (
        payloads.append({"function": function, **ids}), original(function, **ids))[1])
    monkeypatch.setattr(queue, "enqueue_coalesced", lambda function, /: (
        payloads.append({"function": function}), coalesced(function))[1])
    phone.number = CANARIES["number"]
    with caplog.at_level(logging.DEBUG):
        phone.text("MY4821")
        phone.text("4")
        phone.text(CANARIES["words"])
        phone.text(CANARIES["more"] + " #")
        [receipt_text] = phone.text("1")
        jobs_in_redis = rq_job_payloads(sms_settings.redis_url)
        run_jobs(sms_app)
    receipt = "".join(c for c in receipt_text if c.isdigit())[:16]
    canaries = {**CANARIES, "receipt": receipt}
    out = capsys.readouterr()
    logs = (caplog.text + json.dumps([r.__dict__ for r in caplog.records], default=str)
            + out.out + out.err).encode()
    assert payloads, "jobs were queued"
    assert found_in(json.dumps(payloads).encode() + jobs_in_redis, canaries) == []
    assert found_in(database_bytes(sms_settings.database_url), canaries) == []
    assert found_in(redis_bytes(sms_settings.redis_url), canaries) == []
    assert found_in(folder_bytes(sms_settings.instance_path), canaries) == []
    assert found_in(logs, canaries) == []
    from channels.sms.webhook import _FIXED_TWIML  # TwiML kept in the process's memory
    assert found_in(repr(_FIXED_TWIML).encode(), canaries) == []
