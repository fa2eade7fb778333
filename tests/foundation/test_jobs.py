"""A job carries ids only: never text, a receipt or a phone number (DESIGN 3)."""

from __future__ import annotations

import uuid

import pytest

from intake import jobs
from intake.jobs import COALESCE_LOCAL, InProcessQueue, JobPayloadRejected, RQQueue, check_payload
from tests.conftest import TEST_REDIS_URL, wipe_redis


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


@pytest.mark.skipif(not TEST_REDIS_URL, reason="RQ needs Redis (set INTAKE_TEST_REDIS_URL)")
def test_coalesced_jobs_cost_one_redis_set_a_second_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SMS webhook queues the Twilio deletion sweep after every message: one waiting
    sweep at a time, and within a second of its last SET a process asks Redis nothing."""
    assert TEST_REDIS_URL is not None
    wipe_redis(TEST_REDIS_URL)
    queue = RQQueue(TEST_REDIS_URL, backoff=[0])
    sets: list[str] = []
    original_set = queue.queue.connection.set
    monkeypatch.setattr(queue.queue.connection, "set",
                        lambda key, *a, **k: (sets.append(key), original_set(key, *a, **k))[1])
    clock = [1000.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    sweep = "channels.sms.outbound.sweep_deletions"

    for _ in range(50):
        queue.enqueue_coalesced(sweep)
    assert len(sets) == 1 and queue.queue.count == 1

    clock[0] += COALESCE_LOCAL + 0.01
    queue.enqueue_coalesced(sweep)  # the flag is still set: the sweep waits, nothing added
    assert len(sets) == 2 and queue.queue.count == 1

    queue.queue.connection.delete(f"intake:coalesced:{sweep}")  # the sweep started
    queue.enqueue_coalesced(sweep)  # within the second: left to the next message or the timer
    assert queue.queue.count == 1
    clock[0] += COALESCE_LOCAL + 0.01
    queue.enqueue_coalesced(sweep)
    assert len(sets) == 3 and queue.queue.count == 2
    wipe_redis(TEST_REDIS_URL)
