"""How many SMS segments a text costs: GSM-7 (with the extension table) or UCS-2.

The GSM 03.38 alphabet comes from the ``gsm0338`` codec (extension characters such as
``{ } [ ] € ~`` cost two septets); the segment arithmetic is the carriers' (3GPP TS 23.040):
a single GSM-7 SMS holds 160 septets and each part of a long one 153; UCS-2 holds 70 UTF-16
code units, 67 per part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def count_segments(text: str) -> SegmentCount:
    """The encoding a phone network will use for ``text`` and the segments it costs."""
    try:
        septets = len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-le")) // 2
        return SegmentCount("UCS-2", units, _segments(units, UCS2_SINGLE, UCS2_PART))
    return SegmentCount("GSM-7", septets, _segments(septets, GSM7_SINGLE, GSM7_PART))


def _segments(units: int, single: int, part: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / part)
