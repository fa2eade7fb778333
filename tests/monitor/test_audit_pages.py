"""The desk's audit log in pages of 100, newest first: "Older events" leads through every
event once, and the last page has no such link."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from intake.audit.models import AuditEvent
from intake.audit.service import record
from intake.db import Database
from tests.monitor.conftest import Browser, DeskWorld

OLDER = re.compile(r'<a href="([^"]+)">Older events</a>')
MARK = re.compile(r"<td>n=(\d+)</td>")


def test_older_events_page_through_the_whole_log_once(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        for n in range(230):
            record(session, "desk.settings", actor_id=None, desk_id=desks.a.desk.id,
                   detail=f"n={n}")
    browser.login(desks.alice)  # adds its own events to the log too
    with db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.desk_id == desks.a.desk.id))
    marks: list[int] = []
    pages = 0
    path: str | None = f"/monitor/d/{desks.a.desk.id}/audit"
    while path is not None:
        page = browser.get(path.replace("&amp;", "&"))
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        pages += 1
        marks += [int(n) for n in MARK.findall(html)]
        older = OLDER.search(html)
        path = older.group(1) if older else None
    assert marks == list(range(229, -1, -1))  # newest first, each once
    assert total is not None and pages == -(-total // 100)
