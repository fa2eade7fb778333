"""Dashboards: the numbers on a small known fixture, k suppression in the page, the SVG and
the CSV, the remedied-but-workers-say-no flag, each buyer seeing only their organisation's
alerts, and the CSV formula-injection guard."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from typing import Any

from intake.accounts.models import Role
from intake.dashboards import charts, service
from intake.dashboards.export import neutralise
from intake.dashboards.service import Cell, Dashboard
from intake.db import Database
from tests.dashboards.conftest import INJECTED_NAME, World
from tests.monitor.conftest import Browser, make_member

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
NS = "{http://www.w3.org/2000/svg}"


def parse_svg(text: str) -> ET.Element:
    """Our own output, parsed strictly: any malformed markup raises."""
    return ET.fromstring(text)  # noqa: S314 - the app's own SVG, not outside input


def desk_board(db: Database, world: World) -> Dashboard:
    with db.transaction() as session:
        return service.desk_dashboard(session, desk_id=world.desks.a.desk.id, k=3,
                                      today=world.today)


def buyer_board(db: Database, world: World, org_id: int) -> Dashboard:
    with db.transaction() as session:
        return service.buyer_dashboard(session, buyer_org_id=org_id, today=world.today)


def shown(board: Dashboard, key: str) -> dict[str, str]:
    series = next(s for s in board.series if s.key == key)
    return {cell.label: cell.shown for cell in series.cells}


def desk_url(world: World, suffix: str = "") -> str:
    return f"/monitor/d/{world.desks.a.desk.id}/dashboard{suffix}"


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def svg_rows(page: str, chart_id: str) -> dict[str, tuple[str, int]]:
    """label -> (value text, bar length) of one chart on a page."""
    svg = next(s for s in SVG.findall(page) if f'id="{chart_id}"' in s)
    root = parse_svg(svg)
    rows = {}
    for group in root.iter(f"{NS}g"):
        label, value = (t.text or "" for t in group.iter(f"{NS}text"))
        rect = group.find(f"{NS}rect")
        assert rect is not None
        rows[label] = (value, int(rect.get("width", "-1")))
    return rows


# --- the numbers --------------------------------------------------------------------------


def test_desk_counts_reports_of_its_own_in_the_last_twelve_months(db: Database,
                                                                  world: World) -> None:
    board = desk_board(db, world)
    months = shown(board, "reports_by_month")
    assert len(months) == 12
    this_month, last_month = world.today.strftime("%Y-%m"), list(months)[-2]
    assert (months[this_month], months[last_month]) == ("7", "7")  # desk B's 6 are not here
    assert set(list(months.values())[:-2]) == {"<3"}  # the report before the window: out
    assert shown(board, "reports_by_category") == {
        "Wages and benefits": "5", "Health and safety": "4", "overtime": "3",
        "Forced labour": "<3"}
    assert shown(board, "reports_by_facility") == {
        "Penang Circuit Assembly": "7", "Johor Garments": "4", INJECTED_NAME: "3"}
    assert shown(board, "reports_by_country") == {"Malaysia (MY)": "14"}


def test_desk_counts_cases_by_status_with_small_counts_suppressed(db: Database,
                                                                  world: World) -> None:
    assert shown(desk_board(db, world), "cases_by_status") == {
        "Open": "3", "Buyers alerted": "<3", "Remediation under way": "<3",
        "Closed: remedied": "<3", "Closed: not remedied": "<3", "Closed: other": "<3"}


def test_desk_medians_are_shown_only_over_k_or_more(db: Database, world: World) -> None:
    durations = {d.key: (d.items.shown, d.median_days) for d in desk_board(db, world).durations}
    assert durations == {
        "report_to_triage": ("5", "2"),  # opened after 1, 2, 2, 3, 10 days
        "case_to_alert": ("4", "2.5"),  # 0, 1, 4, 6 days
        "alert_to_remedy": ("<3", "—"),  # two cases only: no median
    }


def test_desk_counts_worker_verdicts_by_case_status(db: Database, world: World) -> None:
    rows = {row.label: tuple(c.shown for c in row.cells)
            for row in desk_board(db, world).verdicts}
    assert rows == {"Closed: remedied": ("3", "<3", "3")}


def test_buyer_counts_only_alerts_delivered_to_their_organisation(db: Database,
                                                                  world: World) -> None:
    board = buyer_board(db, world, world.org_a)
    assert shown(board, "alerts_by_month")[world.today.strftime("%Y-%m")] == "3"  # not 4
    assert shown(board, "alerts_by_country") == {"Malaysia (MY)": "3"}
    assert shown(board, "alerts_by_category") == {"Wages and benefits": "<3",
                                                  "Health and safety": "<3"}
    assert shown(board, "alerts_by_facility") == {"Johor Garments": "<3",
                                                  "Penang Circuit Assembly": "<3"}
    assert {d.key: d.median_days for d in board.durations} == {
        "alert_to_remedy": "—", "alert_to_close": "—"}
    assert len(board.verdicts) == 2
    assert {c.shown for row in board.verdicts for c in row.cells} == {"<3"}


def test_buyer_k_is_the_strictest_of_the_alerting_desks(db: Database, world: World) -> None:
    from intake.accounts.models import Desk

    with db.transaction() as session:
        session.get_one(Desk, world.desks.a.desk.id).k_threshold = 5
    board = buyer_board(db, world, world.org_a)
    assert board.k == 5
    assert shown(board, "alerts_by_country") == {"Malaysia (MY)": "<5"}


# --- k suppression where people read it ----------------------------------------------------


def test_a_count_below_k_never_shows_in_page_chart_or_csv(browser: Browser,
                                                          world: World) -> None:
    browser.login(world.desks.alice)
    page = browser.get(desk_url(world)).get_data(as_text=True)
    cell = re.search(r"<tr><td>Forced labour</td><td>([^<]*)</td></tr>", page)
    assert cell is not None and cell.group(1) == "&lt;3"
    bars = svg_rows(page, "chart-reports_by_category")
    assert bars["Forced labour"] == ("<3", charts.SUPPRESSED_LENGTH)
    assert bars["overtime"][0] == "3"
    exported = browser.get(desk_url(world, ".csv"))
    assert exported.mimetype == "text/csv"
    rows = csv_rows(exported.get_data(as_text=True))
    assert ["reports_by_category", "Forced labour", "reports", "<3"] in rows
    assert ["reports_by_category", "Wages and benefits", "reports", "5"] in rows


def test_a_suppressed_bar_has_the_same_length_whatever_the_count() -> None:
    cells = [Cell("big", 40, "40"), service.gate("one", 1, 3), service.gate("two", 2, 3)]
    root = parse_svg(str(charts.bar_chart(chart_id="c", title="t", desc="d", cells=cells)))
    widths = [rect.get("width") for rect in root.iter(f"{NS}rect")
              if rect.get("height") == str(charts.BAR_HEIGHT)]
    assert widths[1] == widths[2] == str(charts.SUPPRESSED_LENGTH)
    assert "1" not in [t.text for t in root.iter(f"{NS}text")]
    assert "2" not in [t.text for t in root.iter(f"{NS}text")]


def test_every_chart_is_well_formed_svg_with_title_and_desc(browser: Browser,
                                                            world: World) -> None:
    browser.login(world.desks.alice)
    page = browser.get(desk_url(world)).get_data(as_text=True)
    found = SVG.findall(page)
    assert len(found) == 5
    for svg in found:
        root = parse_svg(svg)
        assert root.tag == f"{NS}svg"
        assert root.find(f"{NS}title") is not None and root.find(f"{NS}desc") is not None
        assert root.get("role") == "img"


def test_chart_text_is_escaped() -> None:
    svg = str(charts.bar_chart(chart_id="x", title="<b>&", desc="\"'",
                               cells=[Cell("</svg><script>", 3, "3")]))
    root = parse_svg(svg)
    assert "<script>" not in svg
    assert next(t.text for t in root.iter(f"{NS}text")) == "</svg><script>"


# --- the flag -----------------------------------------------------------------------------


def test_a_case_closed_as_remedied_with_mostly_no_verdicts_is_flagged(db: Database,
                                                                      world: World) -> None:
    assert [f.case_id for f in desk_board(db, world).flags] == [world.flagged_case]
    assert [f.case_id for f in buyer_board(db, world, world.org_a).flags] == [world.flagged_case]
    assert buyer_board(db, world, world.org_b).flags == ()


def test_the_flag_shows_on_the_desk_and_buyer_dashboards(browser: Browser,
                                                         other_browser: Browser,
                                                         world: World) -> None:
    browser.login(world.desks.alice)
    desk_page = browser.get(desk_url(world)).get_data(as_text=True)
    assert f"/cases/{world.flagged_case}" in desk_page
    assert f"/cases/{world.fine_case}" not in desk_page
    assert other_browser.login(world.buyer_a).status_code == 302
    buyer_page = other_browser.get("/buyer/dashboard").get_data(as_text=True)
    assert "Flagged:</strong> Penang Circuit Assembly — Wages and benefits" in buyer_page
    assert "Flagged:</strong> Johor" not in buyer_page
    exported = csv_rows(other_browser.get("/buyer/dashboard.csv").get_data(as_text=True))
    assert [r[1] for r in exported if r[0] == "flag_remedied_but_workers_say_no"] == [
        "Penang Circuit Assembly — Wages and benefits"]


# --- buyers see only their organisation's data -------------------------------------------


def test_a_buyer_of_another_organisation_sees_none_of_its_workplaces(browser: Browser,
                                                                      world: World) -> None:
    assert browser.login(world.buyer_b).status_code == 302
    page = browser.get("/buyer/dashboard")
    exported = browser.get("/buyer/dashboard.csv")
    assert page.status_code == exported.status_code == 200
    for text in (page.get_data(as_text=True), exported.get_data(as_text=True)):
        assert "Tijuana Power Plant" in text
        for name in ("Penang", "Johor", "HYPERLINK", "Forced labour", "Health and safety"):
            assert name not in text


def test_the_buyer_dashboard_shows_no_worker_words(browser: Browser, world: World) -> None:
    assert browser.login(world.buyer_a).status_code == 302
    text = browser.get("/buyer/dashboard").get_data(as_text=True)
    assert "sealed" not in text and "Penang Circuit Assembly" in text


def test_a_buyer_cannot_open_a_desk_dashboard(browser: Browser, world: World) -> None:
    assert browser.login(world.buyer_a).status_code == 302
    assert browser.get(desk_url(world)).status_code == 404
    assert browser.get(desk_url(world, ".csv")).status_code == 404


def test_a_monitor_of_another_desk_gets_404(browser: Browser, world: World) -> None:
    browser.login(world.desks.bella)
    assert browser.get(desk_url(world)).status_code == 404
    assert browser.get(desk_url(world, ".csv")).status_code == 404


# --- CSV injection ----------------------------------------------------------------------


def test_csv_cells_that_look_like_formulas_are_neutralised(browser: Browser,
                                                           world: World) -> None:
    browser.login(world.desks.alice)
    rows = csv_rows(browser.get(desk_url(world, ".csv")).get_data(as_text=True))
    assert ["reports_by_facility", "'" + INJECTED_NAME, "reports", "3"] in rows
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]


def test_neutralise_prefixes_every_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(start + "1+1") == "'" + start + "1+1"
    assert neutralise("<3") == "<3"
    assert neutralise("Penang") == "Penang"


# --- edges ------------------------------------------------------------------------------


def test_a_desk_without_data_gets_an_empty_dashboard(browser: Browser, desks: Any,
                                                     db: Database) -> None:
    browser.login(desks.alice)
    response = browser.get(f"/monitor/d/{desks.a.desk.id}/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No worker verdicts yet" in page
    for svg in SVG.findall(page):
        parse_svg(svg)
    exported = browser.get(f"/monitor/d/{desks.a.desk.id}/dashboard.csv")
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    assert csv_rows(exported.get_data(as_text=True))[0] == ["section", "label", "measure",
                                                            "value"]


def test_a_buyer_account_without_an_organisation_gets_404(browser: Browser, desks: Any,
                                                          db: Database, settings: Any) -> None:
    with db.transaction() as session:
        orphan = make_member(session, settings, None, "orphan@buyer.example", role=Role.BUYER)
    assert browser.login(orphan).status_code == 302
    assert browser.get("/buyer/dashboard").status_code == 404
    assert browser.get("/buyer/dashboard.csv").status_code == 404
