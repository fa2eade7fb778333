"""Monitor pages for cases: the desk's case list with the new-case form, and a case page with
the linked reports' words, notes, status, and the summary with its de-identification review.

Each POST changes one thing and commits once; a rejected change is rolled back and the page
is shown again with the reason and the monitor's input kept (400). A form that creates
something (a case, a note) acts once however often it is sent (``intake.once``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from intake import once
from intake.accounts.guard import monitor_required, signed_in
from intake.accounts.models import Desk
from intake.accounts.views import stale_form
from intake.cases import service
from intake.cases.deidentify import PLACEHOLDERS, Kind
from intake.cases.models import CaseStatus
from intake.cases.panels import panels_for
from intake.cases.service import STATUS_LABELS, CaseNotFound, CaseRejected
from intake.ext import database_of
from intake.reports.models import Severity
from intake.triage.taxonomy import DESK_CATEGORIES, SEVERITY_GUIDE
from intake.triage.views import ID, member_desk

cases = Blueprint("cases", __name__, url_prefix="/monitor")

KIND_LABELS: dict[Kind, str] = {
    Kind.PHONE: "Phone number",
    Kind.EMAIL: "E-mail address",
    Kind.ID_NUMBER: "ID, passport or employee number",
    Kind.DATE_OF_BIRTH: "Date of birth",
    Kind.ADDRESS: "Address",
    Kind.ROOM_OR_LINE: "Room, bed or line",
    Kind.PERSON_NAME: "Name",
}
MAX_NAMES = 50  # names a monitor gives to look for in the summary
_ID_SEPARATORS = re.compile(r"[\s,;]+")


cases.register_error_handler(CSRFError, stale_form)


@cases.app_errorhandler(CaseNotFound)  # also for the other domains' case-page forms
def not_found(_error: CaseNotFound) -> ResponseReturnValue:
    database_of().session.rollback()
    return render_template("monitor/message.html", title="Not found",
                           text="There is no such case in this desk."), 404


def _db() -> Session:
    return database_of().session()


def _case_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CaseNotFound("not a case id") from None


def parse_report_ids(text: str) -> list[uuid.UUID]:
    """Report ids, one a line (commas and spaces also separate them)."""
    ids = []
    for token in _ID_SEPARATORS.split(text.strip()):
        if not token:
            continue
        try:
            ids.append(uuid.UUID(token))
        except ValueError:
            raise CaseRejected(f"“{token[:40]}” is not a report id") from None
    return ids


def _severity(value: str | None) -> Severity:
    try:
        return Severity(value or "")
    except ValueError:
        raise CaseRejected("choose a severity") from None


def _status(value: str | None) -> CaseStatus:
    try:
        return CaseStatus(value or "")
    except ValueError:
        raise CaseRejected("choose a status from the list") from None


def _decisions(form: Mapping[str, str]) -> dict[str, bool]:
    decisions = {}
    for key, value in form.items():
        if key.startswith("decision-"):
            if value not in ("accept", "reject"):
                raise CaseRejected("a decision was not valid")
            decisions[key.removeprefix("decision-")] = value == "accept"
    return decisions


# --- the case list and a new case -----------------------------------------------------------


@cases.get("/d/<int:desk_id>/cases/")
@monitor_required
def case_list(desk_id: int) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    prefill = MultiDict({"reports": request.args.get("reports", "")[:400]})
    return _list_page(desk, form=prefill)


@cases.post("/d/<int:desk_id>/cases/")
@monitor_required
def new_case(desk_id: int) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    db = _db()
    form = request.form
    facility = form.get("facility", "")

    def open_case() -> str:
        return str(service.create_case(
            db, desk_id=desk.id, title=form.get("title", "")[: service.MAX_TITLE_CHARS * 2],
            category=form.get("category", ""), severity=_severity(form.get("severity")),
            facility_id=int(facility) if ID.fullmatch(facility) else None,
            report_ids=parse_report_ids(form.get("reports", "")[:100_000]),
            actor_id=signed_in().account.id,
        ).id)

    try:
        outcome = once.run_form_once(db, open_case)
    except (CaseRejected, once.NonceInvalid) as exc:
        db.rollback()
        return _list_page(desk, form=form, error=f"No case was opened: {exc}.", status=400)
    flash(once.ALREADY_SAVED if outcome.repeated
          else "Case opened. Its reports have left the triage queue.")
    if outcome.result is None:  # sent twice, long ago: the first case is in the list
        return redirect(url_for("cases.case_list", desk_id=desk.id)), 303
    return redirect(url_for("cases.case_page", desk_id=desk.id, case_id=outcome.result)), 303


def _list_page(desk: Desk, *, form: Mapping[str, str], error: str | None = None,
               status: int = 200) -> ResponseReturnValue:
    db = _db()
    wanted = request.args.get("status", "")
    shown = CaseStatus(wanted) if wanted in set(CaseStatus) else None
    rows = service.list_cases(db, desk_id=desk.id, desk_key=signed_in().desk_key(desk.id),
                              status=shown)
    return render_template(
        "monitor/case_list.html", desk=desk, rows=rows, shown=shown, form=form, error=error,
        statuses=STATUS_LABELS, categories=DESK_CATEGORIES, severities=SEVERITY_GUIDE,
        facilities=service.case_facilities(db, desk_id=desk.id),
        max_title=service.MAX_TITLE_CHARS,
    ), status


# --- one case -------------------------------------------------------------------------------


@cases.get("/d/<int:desk_id>/cases/<case_id>")
@monitor_required
def case_page(desk_id: int, case_id: str) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    return _case_page(desk, _case_id(case_id))


def _case_page(desk: Desk, case_id: uuid.UUID, *, error: str | None = None,
               kept: Mapping[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    """Open (decrypt, audit) and show the case; commits the audit event."""
    db = _db()
    monitor = signed_in()
    view = service.open_case(db, desk_id=desk.id, case_id=case_id,
                             desk_key=monitor.desk_key(desk.id), actor_id=monitor.account.id)
    db.commit()
    return render_template(
        "monitor/case_page.html", desk=desk, v=view, c=view.case, s=view.summary,
        kept=kept or {}, error=error, statuses=STATUS_LABELS, categories=DESK_CATEGORIES,
        severities=SEVERITY_GUIDE, kinds=KIND_LABELS, placeholders=PLACEHOLDERS,
        closed=service.CLOSED, max_note=service.MAX_NOTE_CHARS,
        max_summary=service.MAX_SUMMARY_CHARS, panels=panels_for(db, desk, view.case),
    ), status


Change = Callable[[Session, Desk, uuid.UUID], str]


def change_case(desk_id: int, case_id: str, change: Change, *,
                kept: Mapping[str, str] | None = None,
                rejected: tuple[type[Exception], ...] = (CaseRejected,),
                refused: str = "Nothing was changed",
                once_per_form: bool = False) -> ResponseReturnValue:
    """Run one change of a case in one transaction: commit and say what happened, or roll
    back and show the case again with the reason (400; 409 when another monitor's change
    of the same thing won the race). Other domains' case-page forms use it too, naming
    their own ``rejected`` errors. ``once_per_form``: the change creates something, so it
    runs once however often its form is sent (``intake.once``)."""
    desk = member_desk(desk_id)
    cid = _case_id(case_id)
    db = _db()
    refusals: tuple[type[Exception], ...] = (*rejected, once.NonceInvalid)
    try:
        if once_per_form:
            outcome = once.run_form_once(db, lambda: change(db, desk, cid))
            message = once.ALREADY_SAVED if outcome.repeated else outcome.result or ""
        else:
            message = change(db, desk, cid)
    except refusals as exc:
        db.rollback()
        return _case_page(desk, cid, error=f"{refused}: {exc}.", kept=kept, status=400)
    except IntegrityError:
        db.rollback()
        return _case_page(desk, cid, error=f"{refused}: another monitor changed this case "
                                           "at the same moment. Check the page.", status=409)
    db.commit()
    flash(message)
    return redirect(url_for("cases.case_page", desk_id=desk.id, case_id=cid)), 303


@cases.post("/d/<int:desk_id>/cases/<case_id>/reports")
@monitor_required
def link(desk_id: int, case_id: str) -> ResponseReturnValue:
    text = request.form.get("reports", "")[:100_000]

    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        added = service.link_reports(db, desk_id=desk.id, case_id=cid,
                                     report_ids=parse_report_ids(text),
                                     actor_id=signed_in().account.id)
        if added == 0:
            return "These reports were already in the case."
        if added == 1:
            return "One report was added to the case."
        return f"{added} reports were added to the case."

    return change_case(desk_id, case_id, change, kept={"reports": text})


@cases.post("/d/<int:desk_id>/cases/<case_id>/reports/<report_id>/unlink")
@monitor_required
def unlink(desk_id: int, case_id: str, report_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        try:
            rid = uuid.UUID(report_id)
        except ValueError:
            raise CaseNotFound("not a report id") from None
        service.unlink_report(db, desk_id=desk.id, case_id=cid, report_id=rid,
                              actor_id=signed_in().account.id)
        return "The report was taken out of the case and is back in the triage queue."

    return change_case(desk_id, case_id, change)


@cases.post("/d/<int:desk_id>/cases/<case_id>/notes")
@monitor_required
def add_note(desk_id: int, case_id: str) -> ResponseReturnValue:
    text = request.form.get("text", "")[: service.MAX_NOTE_CHARS * 4]

    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        service.add_note(db, desk_id=desk.id, case_id=cid, text=text,
                         actor_id=signed_in().account.id)
        return "Note saved, sealed to the desk."

    return change_case(desk_id, case_id, change, kept={"note": text}, once_per_form=True)


@cases.post("/d/<int:desk_id>/cases/<case_id>/status")
@monitor_required
def set_status(desk_id: int, case_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        status = _status(request.form.get("status"))
        monitor = signed_in()
        service.set_status(db, desk_id=desk.id, case_id=cid, status=status,
                           desk_key=monitor.desk_key(desk.id), actor_id=monitor.account.id)
        return f"Status: {STATUS_LABELS[status]}."

    return change_case(desk_id, case_id, change)


@cases.post("/d/<int:desk_id>/cases/<case_id>/summary")
@monitor_required
def save_summary(desk_id: int, case_id: str) -> ResponseReturnValue:
    text = request.form.get("summary", "")[: service.MAX_SUMMARY_CHARS * 4]
    names = request.form.get("names", "")[:4000]

    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        known = [n.strip() for n in names.splitlines() if n.strip()][:MAX_NAMES]
        draft = service.save_summary_draft(db, desk_id=desk.id, case_id=cid, text=text,
                                           actor_id=signed_in().account.id, known_names=known)
        count = len(draft.proposals)
        if count == 0:
            return ("Summary saved. Nothing to redact was found: read it once more, "
                    "then approve it.")
        if count == 1:
            return "Summary saved. Review the proposed redaction below."
        return f"Summary saved. Review the {count} proposed redactions below."

    return change_case(desk_id, case_id, change, kept={"summary": text, "names": names})


@cases.post("/d/<int:desk_id>/cases/<case_id>/summary/review")
@monitor_required
def review_summary(desk_id: int, case_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        monitor = signed_in()
        reviewed = service.review_summary(
            db, desk_id=desk.id, case_id=cid, desk_key=monitor.desk_key(desk.id),
            decisions=_decisions(request.form), actor_id=monitor.account.id,
            draft_id=request.form.get("draft_id", ""))
        left = len(reviewed.pending)
        if left == 0:
            return "Summary approved: this is what buyers will see."
        if left == 1:
            return "Review saved. One proposed redaction still needs a decision."
        return f"Review saved. {left} proposed redactions still need a decision."

    return change_case(desk_id, case_id, change)
