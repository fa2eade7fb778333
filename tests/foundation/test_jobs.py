"""A job carries ids only: never text, a receipt or a phone number (DESIGN 3)."""

from __future__ import annotations

import uuid

import pytest

from intake.jobs import InProcessQueue, JobPayloadRejected, check_payload


@pytest.mark.parametrize("value", ["+60123456789", "whatsapp:+60123456789",
                                   "They took my passport", "1234 5678 9012 3456", "x" * 81])
def test_a_value_that_is_not_an_id_is_refused(value: str) -> None:
    with pytest.raises(JobPayloadRejected):
        check_payload({"value": value})


def test_ids_pass() -> None:
    check_payload({"outbound_id": str(uuid.uuid4()), "n": 3, "tag": "ab" * 32})


def test_the_in_process_queue_refuses_before_running_anything() -> None:
    queue = InProcessQueue(backoff=())
    with pytest.raises(JobPayloadRejected):
        queue.enqueue("channels.sms.outbound.send_outbound", outbound_id="+60123456789")
    queue.drain()
    assert queue.ran == [] and queue.failed == []


def test_jobs_must_live_in_our_packages() -> None:
    queue = InProcessQueue(backoff=())
    with pytest.raises(JobPayloadRejected):
        queue.enqueue("os.system", command="true")
    assert queue.ran == []
