"""A report being written, carried in the page itself between steps (nothing on the server).

Parsing is strict: every field is checked again at every step, so a tampered hidden field
gets a message, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

import phonenumbers
from werkzeug.datastructures import MultiDict

from intake.reports.categories import CATEGORY_CODES
from intake.reports.service import MAX_DETAILS_CHARS

STEPS = ("workplace", "what", "details", "contact", "review")
NOT_LISTED = "none"
MAX_QUERY_CHARS = 100
MAX_NUMBER_CHARS = 32


class Problem(StrEnum):
    """Why a step cannot go on; each has a translated message in the templates."""

    CHOOSE_WORKPLACE = "choose_workplace"
    UNKNOWN_WORKPLACE = "unknown_workplace"
    CHOOSE_CATEGORY = "choose_category"
    TOO_LONG = "too_long"
    CHOOSE_CONTACT = "choose_contact"
    BAD_NUMBER = "bad_number"
    EXPIRED = "expired"
    TAMPERED = "tampered"
    TOO_MANY = "too_many"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Draft:
    facility: str = ""  # a facility id, NOT_LISTED, or "" (not chosen yet)
    categories: tuple[str, ...] = ()
    details: str = field(default="", repr=False)
    contact: str = ""  # "web" or "sms"
    number: str = field(default="", repr=False)
    nonce: str = ""

    @property
    def facility_id(self) -> int | None:
        return int(self.facility) if _ascii_digits(self.facility) else None


def _ascii_digits(text: str) -> bool:
    """Only 0-9: ``str.isdigit`` also takes "²", which ``int`` refuses."""
    return text.isascii() and text.isdigit()


def parse_draft(form: MultiDict[str, str]) -> tuple[Draft, set[Problem]]:
    """The draft from a posted form, and the problems that make a field untrustworthy."""
    problems: set[Problem] = set()
    facility = form.get("facility", "").strip()[:12]
    if facility and facility != NOT_LISTED and not _ascii_digits(facility):
        problems.add(Problem.TAMPERED)
        facility = ""
    categories = tuple(sorted({c for c in form.getlist("category") if c}))
    if not set(categories) <= CATEGORY_CODES:
        problems.add(Problem.TAMPERED)
        categories = tuple(c for c in categories if c in CATEGORY_CODES)
    details = form.get("details", "").replace("\r\n", "\n")
    if len(details) > MAX_DETAILS_CHARS:
        problems.add(Problem.TOO_LONG)
    contact = form.get("contact", "")
    if contact not in ("", "web", "sms"):
        problems.add(Problem.TAMPERED)
        contact = ""
    number = form.get("number", "").strip()[:MAX_NUMBER_CHARS]
    nonce = form.get("nonce", "")[:64]
    draft = Draft(facility, categories, details, contact, number, nonce)
    return draft, problems


def e164(number: str, *, region: str | None) -> str | None:
    """The number in E.164 if it is a valid phone number (for the workplace's country)."""
    try:
        parsed = phonenumbers.parse(number, region or None)
    except phonenumbers.NumberParseException:
        return None
    valid = parsed if phonenumbers.is_valid_number(parsed) else _mexican_mobile_as_dialled_now(
        parsed)
    if valid is None:
        return None
    return phonenumbers.format_number(valid, phonenumbers.PhoneNumberFormat.E164)


def _mexican_mobile_as_dialled_now(parsed: phonenumbers.PhoneNumber
                                   ) -> phonenumbers.PhoneNumber | None:
    """A Mexican mobile written with a prefix Mexico's dial plan dropped in 2019: the "1"
    after +52 (as WhatsApp still shows a Mexican's own number: +52 1 33 1234 5678), or 044
    or 045 before the ten digits; the number as it is dialled now, or None."""
    if parsed.country_code != 52:
        return None
    national = str(parsed.national_number)
    if len(national) == 11 and national.startswith("1"):
        national = national[1:]
    elif len(national) == 12 and national.startswith(("44", "45")) and parsed.italian_leading_zero:
        national = national[2:]
    else:
        return None
    now = phonenumbers.PhoneNumber(country_code=52, national_number=int(national))
    return now if phonenumbers.is_valid_number(now) else None


def check_step(step: str, draft: Draft, *, region: str | None) -> tuple[Draft, set[Problem]]:
    """The problems that keep ``step`` from going on (the draft may come back normalised)."""
    problems: set[Problem] = set()
    if step in STEPS[STEPS.index("workplace"):] and not draft.facility:
        problems.add(Problem.CHOOSE_WORKPLACE)
    if step in STEPS[STEPS.index("what"):] and not draft.categories:
        problems.add(Problem.CHOOSE_CATEGORY)
    if step in STEPS[STEPS.index("details"):] and len(draft.details) > MAX_DETAILS_CHARS:
        problems.add(Problem.TOO_LONG)
    if step in STEPS[STEPS.index("contact"):]:
        if draft.contact not in ("web", "sms"):
            problems.add(Problem.CHOOSE_CONTACT)
        elif draft.contact == "sms":
            normalised = e164(draft.number, region=region)
            if normalised is None:
                problems.add(Problem.BAD_NUMBER)
            else:
                draft = replace(draft, number=normalised)
    return draft, problems


def previous_step(step: str) -> str:
    index = STEPS.index(step)
    return STEPS[max(index - 1, 0)]


def next_step(step: str) -> str:
    index = STEPS.index(step)
    return STEPS[min(index + 1, len(STEPS) - 1)]


def step_of_problem(problem: Problem) -> str | None:
    """Where the worker fixes ``problem`` (for problems found at a later step)."""
    return {
        Problem.CHOOSE_WORKPLACE: "workplace",
        Problem.UNKNOWN_WORKPLACE: "workplace",
        Problem.CHOOSE_CATEGORY: "what",
        Problem.TOO_LONG: "details",
        Problem.CHOOSE_CONTACT: "contact",
        Problem.BAD_NUMBER: "contact",
    }.get(problem)
