"""Burmese typed in Zawgyi, shown to the desk in Unicode.

Many phones in Myanmar, and the phones migrant workers bring from there, still type Burmese
in Zawgyi: a font encoding that puts Burmese letters on the wrong code points, so the same
words look broken in any Unicode font (the desk's) and machine translation cannot read them.
Google's model (``myanmartools``) tells Zawgyi from Unicode; ``python-myanmar`` converts it.

The worker's words stay sealed exactly as they arrived: the desk's pages show the converted
text and keep the original one click away, so a wrong guess (short Unicode text can look
like Zawgyi) loses nothing.

The other way round, a worker whose phone types Zawgyi reads Unicode Burmese as broken
letters: what we text them goes out in Zawgyi once their own words have shown it
(``typed_in_zawgyi``, ``spelled_for``).
"""

from __future__ import annotations

import functools
import re
import warnings

from myanmar import converter
from myanmartools import ZawgyiDetector

# The detector's probability from which a text is taken for Zawgyi. On our own Burmese
# catalog (149 strings), typed in Zawgyi: 142 of the 145 that differ pass it; in Unicode: none
# is changed (one short word scores 0.955 but reads the same either way).
ZAWGYI_LIKELY = 0.95
# ... and up to which it is taken for Unicode (every Unicode string of that catalog that
# reads differently in Zawgyi scores under it, but two of 151 that score between).
UNICODE_LIKELY = 0.05
_MYANMAR = re.compile("[\u1000-\u109f]")


@functools.cache
def _detector() -> ZawgyiDetector:
    with warnings.catch_warnings():  # it loads its model with a call Python 3.11 deprecates
        warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
        return ZawgyiDetector()


def from_zawgyi(text: str) -> str | None:
    """``text`` in Unicode if it was typed in Zawgyi, else None (Unicode Burmese, another
    script, or Zawgyi that reads the same in Unicode)."""
    if not _MYANMAR.search(text) or _detector().get_zawgyi_probability(text) < ZAWGYI_LIKELY:
        return None
    converted: str = converter.convert(text, "zawgyi", "unicode")
    return converted if converted != text else None


def zawgyi_spelling(text: str) -> str:
    """Unicode Burmese as a Zawgyi keyboard types it (for words we must recognise either
    way, such as the SMS keywords, and for texts to phones that type Zawgyi)."""
    # Unicode's canonical order puts the dot below (U+1037, combining class 7) before the
    # asat (U+103A, class 9); the converter only knows the other order and would leave the
    # asat on a code point that Zawgyi draws as a medial ya (40% of our Burmese catalog).
    spelled: str = converter.convert(text.replace(_DOT_ASAT, _ASAT_DOT), "unicode", "zawgyi")
    return spelled


_DOT_ASAT, _ASAT_DOT = "\u1037\u103a", "\u103a\u1037"


def typed_in_zawgyi(text: str) -> bool | None:
    """Whether the phone that typed ``text`` writes Burmese in Zawgyi: True, False (in
    Unicode), or None when the text does not tell (no Burmese in it, a probability between
    the two thresholds, or words spelled the same either way)."""
    if not _MYANMAR.search(text):
        return None
    probability = _detector().get_zawgyi_probability(text)
    if probability >= ZAWGYI_LIKELY:
        return True if converter.convert(text, "zawgyi", "unicode") != text else None
    if probability <= UNICODE_LIKELY:
        return False if zawgyi_spelling(text) != text else None
    return None


def spelled_for(text: str, *, zawgyi: bool) -> str:
    """``text`` (Unicode) as a phone that types Zawgyi shows it, if ``zawgyi``; other
    scripts are left as they are."""
    return zawgyi_spelling(text) if zawgyi and _MYANMAR.search(text) else text
