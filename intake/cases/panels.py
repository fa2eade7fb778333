"""Sections other domains add to the desk's case page (alerts to buyers, the remedy plan,
the workers' verdicts), without the cases package importing them: each registers a
function that returns the template to include and what it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from intake.accounts.models import Desk
from intake.cases.models import Case

Panel = Callable[[Session, Desk, Case], tuple[str, dict[str, Any]]]
PANELS: list[tuple[int, Panel]] = []


def case_panel(order: int) -> Callable[[Panel], Panel]:
    """Register a section of the case page; lower ``order`` comes first."""

    def register(function: Panel) -> Panel:
        if all(existing is not function for _, existing in PANELS):
            PANELS.append((order, function))
            PANELS.sort(key=lambda item: item[0])
        return function

    return register


def panels_for(session: Session, desk: Desk, case: Case) -> list[tuple[str, dict[str, Any]]]:
    return [function(session, desk, case) for _, function in PANELS]
