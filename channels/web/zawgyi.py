"""Worker pages for phones that show Burmese in Zawgyi, under ``/my-zawgyi/``.

Such a phone draws Unicode Burmese (our pages under ``/my/``) as broken letters. The same
pages under ``/my-zawgyi/`` are Burmese too, spelled in Zawgyi: the catalog's strings
(``intake.i18n``), dates, country names and list words, and what the page shows from the
desk (its answers, workplace names). What the worker types is kept as typed, never
converted: it goes back into the page as it came (the draft travels in the page itself) and
to the desk sealed as it arrived, where the desk's pages show it in Unicode
(``intake.reports.burmese``).

Each link is offered in the other spelling's own letters, as Burmese sites do: a Zawgyi
phone can read the word "Zawgyi" only when it is spelled in Zawgyi.
"""

from __future__ import annotations

from flask import g

from intake.i18n import zawgyi_pages
from intake.reports.burmese import spelled_for, zawgyi_spelling

BURMESE = "my"
PATH_CODE = "my-zawgyi"  # the URL prefix, in place of "my"
# "Myanmar (Zawgyi)" and "Myanmar (Unicode)", each in the letters the phone it is for shows.
ZAWGYI_LINK = zawgyi_spelling("မြန်မာ (ဇော်ဂျီ)")
UNICODE_LINK = "မြန်မာ (ယူနီကုဒ်)"


def enter(code: str) -> str:
    """The language of a page's URL prefix; the Zawgyi prefix marks the page for it."""
    if code == PATH_CODE:
        g.zawgyi = True
        return BURMESE
    return code


def path_code(code: str) -> str:
    """The URL prefix for the language ``code`` on this page's phone."""
    return PATH_CODE if code == BURMESE and zawgyi_pages() else code


def shown(text: str | None) -> str | None:
    """Text the page shows but did not translate (the desk's answers, a workplace's name,
    a date), spelled for the phone."""
    return None if text is None else spelled_for(text, zawgyi=zawgyi_pages())
