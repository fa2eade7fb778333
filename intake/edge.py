"""Checks every request passes before any view (DESIGN 8): no NUL character in a query or
form field. No text a person types contains one, and PostgreSQL cannot store it, so it is
refused at the edge with a 400 instead of failing deep inside a transaction."""

from __future__ import annotations

from flask import Flask, abort, request


def _has_nul() -> bool:
    fields = (request.args, request.form) if request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data") else (request.args,)
    return any("\x00" in key or any("\x00" in value for value in values)
               for field in fields for key, values in field.lists())


def register_edge_checks(app: Flask) -> None:
    @app.before_request
    def _refuse_nul() -> None:
        if _has_nul():
            abort(400)


def contains_nul(value: object) -> bool:
    """Whether a parsed JSON value holds a NUL anywhere (keys included)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    return False
