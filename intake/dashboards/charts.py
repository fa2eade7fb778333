"""Horizontal bar charts as SVG strings, drawn on the server (no JavaScript, no library:
pygal is not a dependency, and a bar chart is a few rectangles).

All text is escaped. A suppressed count ("<k") is drawn as a hatched bar of one fixed
length, whatever the count was, so the picture cannot reveal what the label hides. The
chart carries ``<title>`` and ``<desc>``; the page shows the same numbers as a table.
Only presentation attributes are used (no ``style``): the desk's CSP allows no inline style.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from intake.dashboards.service import Cell

WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 50
ROW_HEIGHT = 22
BAR_HEIGHT = 14
PAD = 6
SUPPRESSED_LENGTH = 24  # every suppressed bar has this length
BAR_COLOUR = "#2f5d8a"
HATCH_COLOUR = "#8a8a8a"
MAX_LABEL_CHARS = 36


def _clip(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def bar_chart(*, chart_id: str, title: str, desc: str, cells: Sequence[Cell]) -> Markup:
    """An SVG bar chart of ``cells``; ``chart_id`` must be unique on the page."""
    cid = escape(chart_id)
    bar_space = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 2 * PAD
    largest = max((c.count for c in cells if c.count is not None), default=0)
    height = max(len(cells), 1) * ROW_HEIGHT + 2 * PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
        f'<defs><pattern id="{cid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH_COLOUR}" stroke-width="3"/>'
        f'</pattern></defs>',
    ]
    if not cells:
        parts.append(f'<text x="{PAD}" y="{PAD + BAR_HEIGHT}" font-size="12">No data</text>')
    for row, cell in enumerate(cells):
        y = PAD + row * ROW_HEIGHT
        text_y = y + BAR_HEIGHT - 2
        if cell.count is None:
            length = SUPPRESSED_LENGTH
            fill = f"url(#{cid}-hatch)"
            extra = f' stroke="{HATCH_COLOUR}" stroke-width="1"'
        else:
            length = round(bar_space * cell.count / largest) if largest else 0
            fill = BAR_COLOUR
            extra = ""
        x = LABEL_WIDTH + PAD
        parts.append(
            f'<g><text x="{LABEL_WIDTH}" y="{text_y}" font-size="12" text-anchor="end">'
            f"{escape(_clip(cell.label))}</text>"
            f'<rect x="{x}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="{fill}"{extra}/>'
            f'<text x="{x + length + 4}" y="{text_y}" font-size="12">{escape(cell.shown)}'
            f"</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
