"""Periodic work: queue the alert batch every quarter hour (each desk's batch hour decides
when its alerts actually go out), the sweep of messages Twilio still keeps every five
minutes (and, daily, of any it still lists a week on), the drop of replies kept past their
window every minute, the texts held for WhatsApp's notice given up hourly once their wait
is over, the texts to workers whose job was lost queued again every quarter hour, and the
retention run once a day (and at each start).
Runs in ``intake worker`` (with Redis) or inside ``intake serve`` (embedded default); the
jobs are coalesced, so several schedulers are harmless. ``intake alerts deliver`` and
``intake retention run`` do one run by hand or from cron."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from intake.ext import jobs_of
from intake.messaging.inbound import FORGET_JOB
from intake.messaging.outbound import EXPIRE_HELD_JOB, OWED_JOB

DELIVER_ALERTS = "intake.alerts.delivery.deliver_due"
RETENTION = "intake.retention.service.run_job"  # daily: deletes due numbers and reports
# Inbound messages queue this sweep themselves; the periodic run picks up any that arrived
# while a sweep was starting (the webhook skips Redis for a second after queuing one).
TWILIO_DELETIONS = "channels.sms.outbound.sweep_deletions"
# Replies kept for repeats (an SMS reply 10 minutes, a web receipt an hour) are dropped
# within this interval of their window's end.
KEPT_REPLIES = FORGET_JOB
# What Twilio still lists a week after it was sent (a message silenced under a flood, a
# text whose callbacks never came) is queued for deletion too.
TWILIO_LEFT = "channels.sms.outbound.sweep_left_at_twilio"
# A text held for WhatsApp's notice that went unanswered for two weeks is given up.
HELD_TEXTS = EXPIRE_HELD_JOB
# A text whose job was lost (Redis restarted, or was down when the desk replied) or whose
# retries ran out is queued again.
OWED_TEXTS = OWED_JOB
PERIODIC: tuple[tuple[str, float], ...] = ((DELIVER_ALERTS, 15 * 60.0),
                                           (RETENTION, 24 * 3600.0),
                                           (TWILIO_DELETIONS, 5 * 60.0),
                                           (TWILIO_LEFT, 24 * 3600.0),
                                           (KEPT_REPLIES, 60.0),
                                           (HELD_TEXTS, 3600.0),
                                           (OWED_TEXTS, 15 * 60.0))
log = logging.getLogger("intake.schedule")


def start_periodic(app: Flask, stop: threading.Event | None = None) -> threading.Event:
    """Start the scheduler's daemon thread; set the returned event to stop it.

    One thread for every periodic job, so they are queued in a known order (each at once,
    then every its interval)."""
    stop = stop or threading.Event()
    thread = threading.Thread(target=_loop, args=(app, PERIODIC, stop), name="periodic",
                              daemon=True)
    thread.start()
    return stop


def _loop(app: Flask, jobs: tuple[tuple[str, float], ...], stop: threading.Event) -> None:
    due = dict.fromkeys((function for function, _ in jobs), 0.0)  # monotonic; all due now
    while not stop.is_set():
        for function, interval in jobs:
            if due[function] <= time.monotonic():
                _enqueue(app, function)
                due[function] = time.monotonic() + interval
        stop.wait(max(0.0, min(due.values()) - time.monotonic()))


def _enqueue(app: Flask, function: str) -> None:
    try:
        with app.app_context():
            jobs_of(app).enqueue_coalesced(function)
    except Exception:  # a failed enqueue (Redis down) is tried again next time
        log.warning("periodic job not queued", extra={"event": function})
