"""Checks every request passes before any view (DESIGN 8): no NUL character in a query or
form field. No text a person types contains one, and PostgreSQL cannot store it, so it is
refused at the edge with a 400 instead of failing deep inside a transaction. A query string
must be UTF-8: Werkzeug raises on any other bytes when a view first reads ``request.args``."""

from __future__ import annotations

import re

from flask import Flask, abort, request

from intake.machines import every_request

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul() -> bool:
    mimetype = request.mimetype
    # A query string or URL-encoded body whose bytes hold neither a NUL nor "%00" decodes to
    # text without one: most requests (every Twilio webhook) are cleared without parsing.
    raw = [request.query_string]
    if mimetype == _FORMS[0]:
        raw.append(request.get_data(cache=True))  # the form is later parsed from these bytes
    if mimetype != _FORMS[1] and not any(b"\x00" in part or b"%00" in part for part in raw):
        return False
    fields = (request.args, request.form) if mimetype in _FORMS else (request.args,)
    return any("\x00" in key or any("\x00" in value for value in values)
               for field in fields for key, values in field.lists())


def _query_not_utf8() -> bool:
    raw = request.query_string
    if raw.isascii():  # most requests: nothing to decode
        return False
    try:
        raw.decode()
    except UnicodeDecodeError:
        return True
    return False


def register_edge_checks(app: Flask) -> None:
    @app.before_request
    @every_request
    def _refuse_unreadable_text() -> None:
        if _query_not_utf8() or _has_nul():
            abort(400)


# A NUL, or half of a UTF-16 surrogate pair: JSON's ``\u`` escapes can spell both, and
# neither can be stored (PostgreSQL refuses NUL; a lone surrogate has no UTF-8 encoding).
# Forms cannot carry a lone surrogate: Werkzeug keeps undecodable bytes percent-encoded.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds half a surrogate pair: what JSON's escapes can spell, and what
    Python makes of bytes that are not UTF-8 in a command's arguments or input."""
    return _SURROGATE.search(text) is not None


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def unstorable_text(value: object) -> bool:
    """Whether a parsed JSON value holds, anywhere (keys included), a character no text
    column can keep: a NUL or an unpaired surrogate."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, list):
        return any(unstorable_text(item) for item in value)
    if isinstance(value, dict):
        return any(unstorable_text(k) or unstorable_text(v) for k, v in value.items())
    return False
