"""Periodic work: queue the alert batch every quarter hour (each desk's batch hour decides
when its alerts actually go out). Runs in ``intake worker`` (with Redis) or inside
``intake serve`` (embedded default); the job is coalesced, so several schedulers are
harmless. ``intake alerts deliver`` does one run by hand or from cron."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from intake.ext import jobs_of

DELIVER_ALERTS = "intake.alerts.delivery.deliver_due"
PERIODIC: tuple[tuple[str, float], ...] = ((DELIVER_ALERTS, 15 * 60.0),)
log = logging.getLogger("intake.schedule")


def start_periodic(app: Flask, stop: threading.Event | None = None) -> threading.Event:
    """Start one daemon thread per periodic job; set the returned event to stop them."""
    stop = stop or threading.Event()
    for function, interval in PERIODIC:
        thread = threading.Thread(target=_loop, args=(app, function, interval, stop),
                                  name=f"periodic:{function}", daemon=True)
        thread.start()
    return stop


def _loop(app: Flask, function: str, interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with app.app_context():
                jobs_of(app).enqueue_coalesced(function)
        except Exception:  # a failed enqueue (Redis down) is tried again next time
            log.warning("periodic job not queued", extra={"event": function})
        stop.wait(interval)
