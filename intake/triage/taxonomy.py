"""The desk's words for what happened (monitor taxonomy), severity with its guide, and the
reasons a report needs no action. Workers choose from plainer categories
(``intake.reports.categories``); each worker category maps onto one desk category."""

from __future__ import annotations

from intake.reports.models import Severity

DESK_CATEGORIES: dict[str, str] = {
    "wages": "Wages and benefits",
    "hours": "Working hours",
    "safety": "Health and safety",
    "forced_labour": "Forced labour",
    "forced_labour.documents": "Forced labour: document retention",
    "forced_labour.fees": "Forced labour: recruitment fees",
    "forced_labour.debt": "Forced labour: debt",
    "child_labour": "Child labour",
    "discrimination": "Discrimination",
    "harassment": "Harassment and abuse",
    "union": "Freedom of association",
    "retaliation": "Retaliation",
    "dormitory": "Dormitory and living conditions",
    "other": "Other",
}

SEVERITY_GUIDE: dict[Severity, tuple[str, str]] = {
    Severity.IMMEDIATE_DANGER: (
        "Immediate danger",
        "Someone may be hurt, held or punished soon: act today (locked exits, injury, "
        "confiscated passports with threats, violence)."),
    Severity.SERIOUS: (
        "Serious",
        "A breach of rights affecting pay, freedom or health that needs action within weeks."),
    Severity.OTHER: ("Other", "Anything else: keep watching, gather more reports."),
}

NO_ACTION_REASONS: dict[str, str] = {
    "out_of_scope": "Outside what this desk covers",
    "not_enough_information": "Not enough information and no way to ask",
    "duplicate": "Duplicate of another report",
    "resolved": "Resolved directly with the worker",
    "withdrawn": "The worker withdrew it",
    "test_or_spam": "A test or spam",
}

MAX_TAGS = 10
MAX_TAG_CHARS = 32


def parse_tags(text: str) -> list[str]:
    """Comma-separated short labels, lowercased, unique, in the order given."""
    tags: list[str] = []
    for raw in text.split(","):
        tag = " ".join(raw.split()).lower()[:MAX_TAG_CHARS]
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]
