"""Monitor pages for cases (placeholder until the cases work lands)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

from intake.accounts.guard import monitor_required

cases = Blueprint("cases", __name__, url_prefix="/monitor")


@cases.get("/d/<int:desk_id>/cases/")
@monitor_required
def case_list(desk_id: int) -> ResponseReturnValue:
    abort(404)


@cases.get("/d/<int:desk_id>/cases/<case_id>")
@monitor_required
def case_page(desk_id: int, case_id: str) -> ResponseReturnValue:
    abort(404)
