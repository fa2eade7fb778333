"""The dashboard's numbers as CSV, with the same suppression as the page.

Cells that a spreadsheet would read as a formula (starting with = + - @, or a tab or
carriage return) are prefixed with a single quote: labels come from imported CSV files
(facility names) and must not run as formulas in a buyer's spreadsheet.
"""

from __future__ import annotations

import csv
import io

from intake.dashboards.service import VERDICTS, Dashboard

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("section", "label", "measure", "value")


def neutralise(value: str) -> str:
    """A cell that no spreadsheet evaluates as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def rows(board: Dashboard) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    for series in board.series:
        out.extend((series.key, cell.label, series.unit, cell.shown) for cell in series.cells)
    for duration in board.durations:
        out.append(("durations", duration.label, "count", duration.items.shown))
        out.append(("durations", duration.label, "median_days", duration.median_days))
    for row in board.verdicts:
        out.extend(("worker_verdicts", row.label, verdict.value, cell.shown)
                   for verdict, cell in zip(VERDICTS, row.cells, strict=True))
    out.extend(("flag_remedied_but_workers_say_no", flag.label, "closed_on",
                flag.closed_on.isoformat() if flag.closed_on else "")
               for flag in board.flags)
    return out


def to_csv(board: Dashboard) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerow(("meta", "k", "suppressed below", str(board.k)))
    writer.writerows(tuple(neutralise(cell) for cell in row) for row in rows(board))
    return buffer.getvalue()
