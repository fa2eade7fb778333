"""Worker pages served to phone browsers: language choice, report, follow-up, leave quickly.

Server-rendered, no JavaScript needed, one small stylesheet, no third-party requests.
"""

from __future__ import annotations

from flask import Flask


def format_list_for_locale(items: list[str]) -> str:
    """"a, b and c" in the page's language (Arabic uses "،", Chinese "、")."""
    from babel.lists import format_list
    from flask_babel import get_locale

    from channels.web.zawgyi import shown
    from intake.i18n import zawgyi_pages

    if not zawgyi_pages():
        return format_list(items, locale=get_locale() or "en")
    # The items are spelled for the phone already (translated, or ``shown``); the words
    # between them are spelled here, around placeholders no spelling changes.
    placeholders = [f"{{{index}}}" for index in range(len(items))]
    pattern = shown(format_list(placeholders, locale=get_locale() or "en")) or ""
    for placeholder, item in zip(placeholders, items, strict=True):
        pattern = pattern.replace(placeholder, item, 1)
    return pattern


def init_app(app: Flask) -> None:
    """Register the worker pages (found through the ``intake.channels`` entry point)."""
    from channels.web.errors import register_error_pages
    from channels.web.headers import register_worker_headers
    from channels.web.views import web
    from channels.web.zawgyi import shown

    app.extensions["intake.csrf"].exempt(web)  # checked in the views, to keep what was typed
    app.register_blueprint(web)
    app.add_template_filter(format_list_for_locale, "format_list")
    dateformat = app.jinja_env.filters["dateformat"]  # Flask-Babel's: the date's words too
    app.add_template_filter(
        lambda value, *args, **kwargs: shown(dateformat(value, *args, **kwargs)), "dateformat")
    register_worker_headers(app)
    register_error_pages(app)
