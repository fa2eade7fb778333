"""The admin's import page (``/monitor/admin/import``): the same all-or-nothing CSV import
as ``intake import``, for people who do not use a terminal."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from intake.accounts.guard import admin_required, signed_in
from intake.accounts.views import stale_form
from intake.ext import db_session
from intake.supplychain.imports import LIMITS, ImportFileError, ImportRejected, Kind, import_csv

admin = Blueprint("admin", __name__, url_prefix="/monitor/admin")
admin.register_error_handler(CSRFError, stale_form)
MAX_SHOWN_ERRORS = 200


@admin.url_value_preprocessor
def _larger_uploads(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """CSV files may be up to the import's own limit (the app's body limit is 64 KiB). Set
    here, before any before-request hook (CSRF) reads the body."""
    if endpoint == "admin.import_page":
        request.max_content_length = LIMITS.max_bytes + 64 * 1024


def _page(status: int = 200, **context: object) -> ResponseReturnValue:
    return render_template("monitor/import.html", kinds=list(Kind),
                           max_mib=LIMITS.max_bytes // (1024 * 1024), max_rows=LIMITS.max_rows,
                           **context), status


@admin.route("/import", methods=["GET", "POST"])
@admin_required
def import_page() -> ResponseReturnValue:
    if request.method == "GET":
        return _page()
    try:
        kind = Kind(request.form.get("kind", ""))
    except ValueError:
        return _page(400, error="Choose what the file holds.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(400, error="Choose a CSV file to import.", kind=kind)
    db = db_session()
    try:
        counts = import_csv(db, kind, upload.read(), actor_id=signed_in().account.id)
    except ImportFileError as exc:
        db.rollback()
        return _page(400, error=f"Nothing was imported: {exc}.", kind=kind)
    except ImportRejected as exc:
        db.rollback()
        return _page(400, error=f"Nothing was imported: {exc}. Correct them and import the "
                     "whole file again.",
                     problems=[str(e) for e in exc.errors[:MAX_SHOWN_ERRORS]],
                     more=max(len(exc.errors) - MAX_SHOWN_ERRORS, 0), kind=kind)
    db.commit()
    return _page(done=counts, kind=kind)
