"""The alert batch is queued by a periodic scheduler (``intake worker`` / embedded serve)."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from intake import schedule


def test_scheduler_queues_alerts_retention_and_the_twilio_sweep_at_once_and_stops(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[str] = []
    queue = app.extensions["intake.jobs"]
    monkeypatch.setattr(queue, "enqueue_coalesced", queued.append)
    stop = threading.Event()
    done = threading.Event()
    original = stop.wait

    def wait_once(timeout: float | None = None) -> bool:
        done.set()  # the loop queued its first run and now waits for the interval
        stop.set()
        return original(0)

    monkeypatch.setattr(stop, "wait", wait_once)
    schedule.start_periodic(app, stop)
    assert done.wait(10)
    assert queued == [schedule.DELIVER_ALERTS, schedule.RETENTION, schedule.TWILIO_DELETIONS,
                      schedule.TWILIO_LEFT, schedule.KEPT_REPLIES, schedule.HELD_TEXTS,
                      schedule.OWED_TEXTS]
