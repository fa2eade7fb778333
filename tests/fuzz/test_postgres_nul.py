"""Found by fuzzing: a NUL character in a field was a 500 on PostgreSQL (its text columns
refuse NUL; SQLite stores it). The app now refuses NUL at the edge (``intake.edge``): these
pin that on both databases."""

from __future__ import annotations

import json

from flask import Flask

from intake.db import Database
from intake.settings import Settings
from tests.fuzz.test_api import api
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.monitor.test_api import Api
from tests.sms.conftest import Phone
from tests.web.conftest import World

__all__ = ["api"]

NUL = "a\x00b"



def test_message_sid_with_nul_is_refused_not_a_500(
    app: Flask, settings: Settings, sms_world: World
) -> None:
    phone = Phone(app.test_client(), settings)
    response = phone.post(phone.params("hello", sid="SM" + NUL))
    assert response.status_code in (200, 400)


def test_triage_form_tags_with_nul_are_refused_not_a_500(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "Our wages were cut without notice.")
    assert browser.login(desks.alice).status_code == 302
    page = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    assert browser.get(page).status_code == 200
    assert browser.post(f"{page}/triage", {"tags": NUL}).status_code in (303, 400)


def test_api_tags_with_nul_are_refused_not_a_500(
    api: Api, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "We are locked in the dormitory at night.")
    response = api.call("PATCH", f"/reports/{report_id}", data=json.dumps({"tags": [NUL]}))
    assert response.status_code in (200, 400)
