"""Dashboard pages: a desk's (its own data) and a buyer organisation's (only cases alerted
to it), each with a CSV export of the same, suppressed numbers. Read-only: no forms."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue

from intake.accounts.guard import buyer_required, monitor_required, signed_in
from intake.accounts.models import Desk
from intake.dashboards import charts, service
from intake.dashboards.export import to_csv
from intake.dashboards.service import Dashboard
from intake.db import today
from intake.ext import db_session
from intake.triage.views import member_desk

dashboards = Blueprint("dashboards", __name__)


def _charts(board: Dashboard) -> dict[str, object]:
    return {s.key: charts.bar_chart(
        chart_id=f"chart-{s.key}", title=s.title,
        desc=f"{s.title}: {len(s.cells)} bars; counts below {board.k} are shown as "
             f"“<{board.k}” with a hatched bar of fixed length. The table below has the "
             f"same numbers.", cells=s.cells) for s in board.series}


def _csv(board: Dashboard, filename: str) -> Response:
    return Response(to_csv(board), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


def _desk_board(desk_id: int) -> tuple[Desk, Dashboard]:
    desk = member_desk(desk_id)
    board = service.desk_dashboard(db_session(), desk_id=desk.id, k=desk.k_threshold,
                                   today=today())
    return desk, board


def _buyer_board() -> Dashboard:
    org_id = signed_in().account.buyer_org_id
    if org_id is None:
        abort(404)  # a buyer account not (or no longer) in an organisation has no data
    return service.buyer_dashboard(db_session(), buyer_org_id=org_id, today=today())


@dashboards.get("/monitor/d/<int:desk_id>/dashboard")
@monitor_required
def desk_dashboard(desk_id: int) -> ResponseReturnValue:
    desk, board = _desk_board(desk_id)
    return render_template("dashboards/desk.html", desk=desk, board=board,
                           charts=_charts(board))


@dashboards.get("/monitor/d/<int:desk_id>/dashboard.csv")
@monitor_required
def desk_dashboard_csv(desk_id: int) -> ResponseReturnValue:
    _desk, board = _desk_board(desk_id)
    return _csv(board, f"desk-{desk_id}-dashboard.csv")


@dashboards.get("/buyer/dashboard")
@buyer_required
def buyer_dashboard() -> ResponseReturnValue:
    board = _buyer_board()
    return render_template("dashboards/buyer.html", board=board, charts=_charts(board))


@dashboards.get("/buyer/dashboard.csv")
@buyer_required
def buyer_dashboard_csv() -> ResponseReturnValue:
    return _csv(_buyer_board(), "buyer-dashboard.csv")
