"""The admin's import page: the same all-or-nothing import as the command, over HTTP."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from intake.accounts.models import Role
from intake.db import Database
from intake.supplychain.models import BuyerOrg, Facility
from tests.monitor.conftest import Browser, DeskWorld, browser, desks, make_member
from tests.races import at_once
from tests.sms.conftest import settings, twilio

__all__ = ["browser", "desks", "settings", "twilio"]
DATA = Path(__file__).parent / "data"


def facilities(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Facility)) or 0)


def sign_in_admin(browser: Browser, db: Database, settings: Any) -> None:
    with db.transaction() as session:
        admin = make_member(session, settings, None, "admin@platform.example", role=Role.ADMIN)
    assert browser.login(admin).status_code == 302
    assert browser.get("/monitor/admin/import").status_code == 200


def upload(browser: Browser, kind: str, data: bytes) -> Any:
    return browser.client.post("/monitor/admin/import", data={
        "csrf_token": browser.token, "kind": kind,
        "file": (io.BytesIO(data), "upload.csv")}, content_type="multipart/form-data",
        environ_base=browser.environ)


def test_admin_imports_a_good_file(browser: Browser, db: Database, settings: Any) -> None:
    sign_in_admin(browser, db, settings)
    before = facilities(db)
    page = upload(browser, "facilities", (DATA / "facilities.csv").read_bytes())
    assert page.status_code == 200 and "created" in page.get_data(as_text=True)
    assert facilities(db) > before


def test_a_bad_file_lists_every_problem_and_writes_nothing(
    browser: Browser, db: Database, settings: Any
) -> None:
    sign_in_admin(browser, db, settings)
    bad = b"name,country_code,poster_code\nGood Plant,MY,MY1234\nBad Plant,XX,MY1235\n,MY,MY12\n"
    page = upload(browser, "facilities", bad)
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "line 3, column country_code" in text and "line 4" in text
    assert facilities(db) == 0


def test_a_monitor_cannot_reach_the_import_page(
    browser: Browser, desks: DeskWorld
) -> None:
    browser.login(desks.alice)
    assert browser.get("/monitor/admin/import").status_code == 404


def test_files_larger_than_the_apps_usual_body_limit_are_accepted(
    browser: Browser, db: Database, settings: Any
) -> None:
    sign_in_admin(browser, db, settings)
    rows = "".join(f"Plant number {n} with a long name,MY,MY{n:04d}\n" for n in range(1, 2001))
    data = ("name,country_code,poster_code\n" + rows).encode()
    assert len(data) > 64 * 1024
    assert upload(browser, "facilities", data).status_code == 200
    assert facilities(db) == 2000


def buyers(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(BuyerOrg)) or 0)


def test_an_open_supply_hub_id_that_grows_in_upper_case_is_refused(
    browser: Browser, db: Database, settings: Any
) -> None:
    """"ß" upper-cases to "SS": 20 characters became 40, more than the 32 the column keeps
    (PostgreSQL refused the row with a 500; SQLite kept it)."""
    sign_in_admin(browser, db, settings)
    page = upload(browser, "facilities",
                  ("name,country_code,poster_code,os_id\nPlant,MY,MY1234," + "ß" * 20
                   + "\n").encode())
    assert page.status_code == 400
    assert "line 2, column os_id" in page.get_data(as_text=True)
    assert facilities(db) == 0


def test_a_contact_email_that_grows_in_lower_case_is_refused(
    browser: Browser, db: Database, settings: Any
) -> None:
    """"İ" lower-cases to two characters: 214 became 414, more than the 254 an address can
    have (PostgreSQL refused the row with a 500; SQLite kept it)."""
    sign_in_admin(browser, db, settings)
    page = upload(browser, "buyers",
                  ("name,contact_email\nCity of Example," + "İ" * 200
                   + "@buyer.example\n").encode())
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "line 2, column contact_email" in text and "longer than 254 characters" in text
    assert buyers(db) == 0


def test_the_same_file_imported_twice_at_the_same_moment_is_imported_once(
    app: Flask, browser: Browser, db: Database, settings: Any
) -> None:
    """The page sent twice: both imports found the facilities missing before either saved
    (tests.races lines them up). They run in turn: the second finds them all unchanged."""
    with db.transaction() as session:
        admin = make_member(session, settings, None, "admin@platform.example", role=Role.ADMIN)
    again = Browser(app.test_client(), db, environ={"REMOTE_ADDR": "198.51.100.99"})
    for each in (browser, again):
        each.login(admin)
        each.get("/monitor/admin/import")
    data = (DATA / "facilities.csv").read_bytes()
    pages = at_once(db.engine, lambda: upload(browser, "facilities", data),
                    lambda: upload(again, "facilities", data))
    assert [p.status_code for p in pages] == [200, 200]
    assert sum(" 0 created" in p.get_data(as_text=True) for p in pages) == 1
    assert facilities(db) == len(data.decode().strip().splitlines()) - 1
