"""Ready-made replies a monitor can send a worker, translated into every worker language.

Each text may go out by SMS, so each must fit one GSM-7 segment or two UCS-2 segments in
every catalog (tests/i18n/test_snippets.py counts them). Titles are for the monitor's screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_app_context
from flask_babel import force_locale, lazy_pgettext
from flask_babel.speaklater import LazyString

from intake.i18n import BY_CODE


@dataclass(frozen=True)
class Snippet:
    code: str
    title: LazyString  # shown to the monitor, in the monitor's language
    text: LazyString  # sent to the worker, in the report's language


SNIPPETS: tuple[Snippet, ...] = (
    Snippet(
        "received",
        # Translators: 2-4 word label of a ready-made reply, for monitors.
        lazy_pgettext("reply snippet title", "Report received"),
        # Translators: a reply sent to a worker by SMS. Keep it short: at most
        # 160 plain Latin letters, else 134 characters. Plain words.
        lazy_pgettext("reply snippet", "We got your report. We will look into it and tell you "
                      "what we find. We will not share your name."),
    ),
    Snippet(
        "more_info",
        # Translators: 2-4 word label of a ready-made reply, for monitors.
        lazy_pgettext("reply snippet title", "Ask for details"),
        # Translators: a reply sent to a worker by SMS. Keep it short: at most
        # 160 plain Latin letters, else 134 characters. Plain words.
        lazy_pgettext("reply snippet", "Can you tell us more? When did this start, and how "
                      "many workers does it affect?"),
    ),
    Snippet(
        "safe_contact",
        # Translators: 2-4 word label of a ready-made reply, for monitors.
        lazy_pgettext("reply snippet title", "Safe to text?"),
        # Translators: a reply sent to a worker by SMS. Keep it short: at most
        # 160 plain Latin letters, else 134 characters. Plain words.
        lazy_pgettext("reply snippet", "Is it safe for us to text you on this number? Please "
                      "answer only if it is safe for you."),
    ),
    Snippet(
        "in_progress",
        # Translators: 2-4 word label of a ready-made reply, for monitors.
        lazy_pgettext("reply snippet title", "Raising it with buyers"),
        # Translators: a reply sent to a worker by SMS. Keep it short: at most
        # 160 plain Latin letters, else 134 characters. "Companies that buy
        # from your factory": the brands; say it in plain words.
        lazy_pgettext("reply snippet", "We are telling the companies that buy from your "
                      "factory about this problem. This can take some weeks."),
    ),
    Snippet(
        "keep_safe",
        # Translators: 2-4 word label of a ready-made reply, for monitors.
        lazy_pgettext("reply snippet title", "Stay safe"),
        # Translators: a reply sent to a worker by SMS. Keep it short: at most
        # 160 plain Latin letters, else 134 characters. "Receipt number":
        # the 16 digits, same word as elsewhere in this catalog.
        lazy_pgettext("reply snippet", "To stay safe, do not tell anyone at work that you "
                      "reported. Keep your receipt number secret."),
    ),
    Snippet(
        "fees",
        # Translators: 2-4 word label of a ready-made reply, for monitors.
        lazy_pgettext("reply snippet title", "Recruitment fees"),
        # Translators: a reply sent to a worker by SMS. Keep it short: at most
        # 160 plain Latin letters, else 134 characters. Plain words.
        lazy_pgettext("reply snippet", "If you paid money to get this job, keep any receipts "
                      "or other proof of what you paid."),
    ),
    Snippet(
        "closed_question",
        # Translators: 2-4 word label of a ready-made reply, for monitors.
        lazy_pgettext("reply snippet title", "Is it really fixed?"),
        # Translators: a reply sent to a worker by SMS. Keep it short: at most
        # 160 plain Latin letters, else 134 characters. "Answers page": the
        # web page where workers read answers with their receipt number.
        lazy_pgettext("reply snippet", "We were told the problem is fixed. Is it really "
                      "fixed? Please answer by SMS or on the answers page."),
    ),
)
_BY_CODE = {snippet.code: snippet for snippet in SNIPPETS}


def snippet_text(code: str, language: str) -> str:
    """The text of snippet ``code`` in the worker language ``language``.

    Needs a Flask app context with Flask-Babel set up: without one ``force_locale`` does
    nothing and the English text would come back, so this raises ``RuntimeError`` instead.
    Raises ``KeyError`` for an unknown snippet code or language code.
    """
    snippet = _BY_CODE[code]
    if language not in BY_CODE:
        raise KeyError(language)
    if not has_app_context():
        raise RuntimeError("snippet_text needs an app context to choose the language")
    with force_locale(language):
        return str(snippet.text)


def snippets_for(language: str) -> list[tuple[str, str, str]]:
    """Every snippet as (code, title in the current locale, text in ``language``)."""
    return [(snippet.code, str(snippet.title), snippet_text(snippet.code, language))
            for snippet in SNIPPETS]
