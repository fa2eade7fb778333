"""What can happen to a worker, in plain words: the category codes every channel offers."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_pgettext
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class Category:
    code: str
    label: LazyString
    hint: LazyString


CATEGORIES: tuple[Category, ...] = (
    Category("wages", lazy_pgettext("category", "Pay"),
             lazy_pgettext("category hint", "Wages not paid, paid late, or cut")),
    Category("hours", lazy_pgettext("category", "Working hours"),
             lazy_pgettext("category hint", "Too much overtime, no day off")),
    Category("safety", lazy_pgettext("category", "Safety and health"),
             lazy_pgettext("category hint", "Danger, injury, chemicals, no protection")),
    Category("forced_labour", lazy_pgettext("category", "Forced work or debt"),
             lazy_pgettext("category hint", "Passport taken, recruitment fees, cannot leave")),
    Category("harassment", lazy_pgettext("category", "Abuse or harassment"),
             lazy_pgettext("category hint", "Shouting, hitting, sexual harassment")),
    Category("discrimination", lazy_pgettext("category", "Unfair treatment"),
             lazy_pgettext("category hint", "Because of sex, origin, religion or pregnancy")),
    Category("union", lazy_pgettext("category", "Union rights"),
             lazy_pgettext("category hint", "Stopped from joining or forming a union")),
    Category("retaliation", lazy_pgettext("category", "Punished for speaking up"),
             lazy_pgettext("category hint", "Threats or firing after a complaint")),
    Category("dormitory", lazy_pgettext("category", "Housing"),
             lazy_pgettext("category hint", "Dormitory, food or water")),
    Category("child_labour", lazy_pgettext("category", "Children working"),
             lazy_pgettext("category hint", "Workers under the legal age")),
    Category("other", lazy_pgettext("category", "Something else"),
             lazy_pgettext("category hint", "Anything not listed here")),
)

CATEGORY_CODES = frozenset(c.code for c in CATEGORIES)


def labels_of(codes: str) -> str:
    """What the worker chose ("wages,forced_labour"), in the words the worker saw, in the
    current language ("Pay, Forced work or debt"); an unknown code as it is."""
    return ", ".join(str(_BY_CODE[code].label) if code in _BY_CODE else code
                     for code in codes.split(",") if code)


_BY_CODE = {category.code: category for category in CATEGORIES}
