"""Monitor desk pages: desk choice, the queue, a report (decrypted, audited), triage
decisions, replies with their SMS cost, reports entered for a worker, and the audit log."""

from __future__ import annotations

import contextlib
import re
import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crypto.receipts import format_receipt
from intake import once
from intake.accounts.guard import monitor_required, signed_in
from intake.accounts.members import active_members
from intake.accounts.models import Desk, Role
from intake.accounts.views import stale_form
from intake.audit.service import desk_events
from intake.ext import db_session, settings_of
from intake.i18n import LANGUAGES
from intake.kdf import argon2_profile
from intake.messaging.outbound import send_soon
from intake.messaging.segments import count_segments
from intake.reports.burmese import from_zawgyi
from intake.reports.categories import CATEGORIES, labels_of
from intake.reports.models import Channel, Severity, TriageStatus
from intake.reports.service import (
    MAX_DETAILS_CHARS,
    NoDeskAvailable,
    ReportGone,
    ReportRejected,
)
from intake.supplychain import service as workplaces
from intake.supplychain.models import Coverage, Facility
from intake.triage import replies
from intake.triage.service import (
    AGES,
    Cursor,
    QueueFilter,
    ReportNotFound,
    TriageChange,
    TriageRejected,
    apply_change,
    open_report,
    queue_counts,
    queue_page,
    triage_row,
)
from intake.triage.taxonomy import DESK_CATEGORIES, NO_ACTION_REASONS, SEVERITY_GUIDE

triage = Blueprint("triage", __name__, url_prefix="/monitor")
ID = re.compile(r"[0-9]{1,9}")  # ASCII digits only, and within every database's integer


triage.register_error_handler(CSRFError, stale_form)
triage.add_app_template_filter(labels_of, "worker_categories")
triage.add_app_template_filter(from_zawgyi, "from_zawgyi")


@triage.errorhandler(ReportNotFound)
def not_found(_error: ReportNotFound) -> ResponseReturnValue:
    return render_template("monitor/message.html", title="Not found",
                           text="There is no such report in this desk."), 404


@triage.errorhandler(ReportGone)
def gone(error: ReportGone) -> ResponseReturnValue:
    """Retention deleted a report this request had found (opened, replied to, or named in a
    decision): a 404 as for any report that is not there, saying what happened."""
    db_session().rollback()  # nothing of the request is kept
    text = (f"Report {error.report_id} is no longer kept: it was deleted when its retention "
            "period ended.")
    if request.method == "POST":
        text += " Nothing was changed."
    return render_template("monitor/message.html", title="Not found", text=text), 404


def member_desk(desk_id: int) -> Desk:
    """The desk if the signed-in monitor is an active member of it; 404 for anything else
    (a member of desk A learns nothing about desk B, not even that an id exists)."""
    monitor = signed_in()
    if desk_id not in monitor.desk_ids:
        abort(404)
    desk = db_session().get(Desk, desk_id)
    if desk is None:
        abort(404)
    g.desk = desk
    return desk


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


@triage.get("/")
@monitor_required
def home() -> ResponseReturnValue:
    monitor = signed_in()
    desks = list(db_session().scalars(
        select(Desk).where(Desk.id.in_(monitor.desk_ids)).order_by(Desk.name)))
    is_admin = monitor.account.role is Role.ADMIN
    if len(desks) == 1 and not is_admin:  # an admin's home also links the platform's pages
        return redirect(url_for("triage.queue", desk_id=desks[0].id))
    return render_template("monitor/home.html", desks=desks, is_admin=is_admin)


def _enum(kind: type[TriageStatus] | type[Channel], value: str | None):  # type: ignore[no-untyped-def]
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def parse_filter(args: dict[str, str]) -> QueueFilter:
    """Unknown or malformed filter values are ignored, never an error page."""
    facility = args.get("facility", "")
    status = args.get("status", "new")
    return QueueFilter(
        status=_enum(TriageStatus, status) if status != "all" else None,
        facility_id=int(facility) if ID.fullmatch(facility) else None,
        country=args.get("country", "").upper()[:2] or None,
        language=args.get("language") or None,
        channel=_enum(Channel, args.get("channel")),
        category=args.get("category") if args.get("category") in DESK_CATEGORIES else None,
        age=args.get("age") if args.get("age") in (*AGES, "older") else None,
    )


@triage.get("/d/<int:desk_id>/")
@monitor_required
def queue(desk_id: int) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    db = db_session()
    args = {k: v[:64] for k, v in request.args.items()}
    flt = parse_filter(args)
    after = Cursor.decode(args.get("after", "")) if args.get("after") else None
    rows, cursor = queue_page(db, desk.id, flt, after=after)
    counts = queue_counts(db, desk.id, flt)
    names = {m.account_id: a.display_name for m, a in active_members(db, desk.id)}
    facilities = dict(db.execute(
        select(Facility.id, Facility.name).join(Coverage, Coverage.facility_id == Facility.id)
        .where(Coverage.desk_id == desk.id).order_by(Facility.name)).all())
    next_args = {**args, "after": cursor.encode()} if cursor else None
    return render_template(
        "monitor/queue.html", desk=desk, rows=rows, counts=counts, flt=flt, args=args,
        next_args=next_args, names=names, categories=DESK_CATEGORIES, statuses=TriageStatus,
        channels=Channel, languages=LANGUAGES, ages=(*AGES, "older"), facilities=facilities,
    )


@triage.get("/d/<int:desk_id>/reports/<report_id>")
@monitor_required
def report(desk_id: int, report_id: str) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    db = db_session()
    monitor = signed_in()
    opened = open_report(db, desk_id=desk.id, report_id=_uuid(report_id),
                         desk_key=monitor.desk_key(desk.id), actor_id=monitor.account.id)
    db.commit()
    return _report_page(desk, opened)


def _report_page(desk: Desk, opened, *, draft: str = "", error: str | None = None,  # type: ignore[no-untyped-def]
                 status: int = 200) -> ResponseReturnValue:
    from intake.reports.snippets import snippets_for

    db = db_session()
    names = {m.account_id: a.display_name for m, a in active_members(db, desk.id)}
    return render_template(
        "monitor/report.html", desk=desk, o=opened, names=names, categories=DESK_CATEGORIES,
        severities=SEVERITY_GUIDE, statuses=TriageStatus, reasons=NO_ACTION_REASONS,
        draft=draft, cost=count_segments(draft) if draft else None, error=error,
        snippets=snippets_for(opened.report.language), max_reply=replies.MAX_REPLY_CHARS,
        nonce=once.new_nonce(),
    ), status


@triage.post("/d/<int:desk_id>/reports/<report_id>/triage")
@monitor_required
def decide(desk_id: int, report_id: str) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    db = db_session()
    form = request.form
    rid = _uuid(report_id)
    triage_row(db, desk.id, rid)  # another desk's report: 404, as on every other page
    try:
        change = TriageChange(
            category=form.get("category") or None,
            severity=Severity(form["severity"]) if form.get("severity") else None,
            tags=form.get("tags", "")[:400] if "tags" in form else None,
            assignee_id=int(form["assignee"]) if ID.fullmatch(form.get("assignee", "")) else None,
            unassign=form.get("assignee") == "none",
            status=TriageStatus(form["status"]) if form.get("status") else None,
            no_action_reason=form.get("reason") or None,
            duplicate_of=uuid.UUID(form["duplicate_of"].strip())
            if form.get("duplicate_of", "").strip() else None,
        )
        apply_change(db, desk_id=desk.id, report_id=rid, change=change,
                     actor_id=signed_in().account.id)
    except (ValueError, TriageRejected, ReportNotFound) as exc:
        db.rollback()
        flash(f"Nothing was changed: {_refusal(exc)}.", "error")
        return redirect(url_for("triage.report", desk_id=desk.id, report_id=rid)), 303
    db.commit()
    flash("Saved.")
    return redirect(url_for("triage.report", desk_id=desk.id, report_id=rid)), 303


def _refusal(exc: Exception) -> str:
    """Why a triage decision changed nothing, for the monitor."""
    if isinstance(exc, TriageRejected):
        return str(exc)
    if isinstance(exc, ReportNotFound):  # the report itself was found before the decision
        return "the report it duplicates is not in this desk (or is no longer kept)"
    return "a value was not valid"


@triage.post("/d/<int:desk_id>/reports/<report_id>/reply")
@monitor_required
def reply(desk_id: int, report_id: str) -> ResponseReturnValue:
    """Preview (shows the SMS cost), use a snippet, or send."""
    from intake.reports.snippets import snippet_text

    desk = member_desk(desk_id)
    db = db_session()
    monitor = signed_in()
    rid = _uuid(report_id)
    text = request.form.get("text", "")[: replies.MAX_REPLY_CHARS * 2]
    action = request.form.get("action", "preview")
    opened = open_report(db, desk_id=desk.id, report_id=rid, desk_key=monitor.desk_key(desk.id),
                         actor_id=monitor.account.id)
    if action.startswith("snippet:"):
        with contextlib.suppress(KeyError):  # an unknown snippet leaves the text as it was
            text = snippet_text(action.removeprefix("snippet:"), opened.report.language)
        db.commit()
        return _report_page(desk, opened, draft=text)
    try:
        replies.check_reply(text)
    except TriageRejected as exc:
        db.commit()
        return _report_page(desk, opened, draft=text, error=str(exc).capitalize() + ".",
                            status=400)
    nonce = request.form.get("nonce", "")
    if action != "send" or not once.valid_nonce(nonce):
        db.commit()
        return _report_page(desk, opened, draft=text)
    sent: list[replies.SentReply] = []

    def send() -> str:
        sent.append(replies.reply(db, desk_id=desk.id, report_id=rid, text=text,
                                  actor_id=monitor.account.id))
        return str(sent[0].message.id)

    outcome = once.run_once(db, nonce, send, pepper=settings_of().pepper)
    if outcome.repeated:
        flash("This reply was sent already (the form was sent twice); it was not sent again.")
    elif sent[0].outbound is not None:
        send_soon(sent[0].outbound.id)
        flash(f"Reply sent: on the follow-up page, and by SMS ({sent[0].segments.segments} "
              f"segment(s), {sent[0].segments.encoding}).")
    else:
        flash("Reply saved: the worker reads it on the follow-up page with the receipt.")
    return redirect(url_for("triage.report", desk_id=desk.id, report_id=rid)), 303


@triage.route("/d/<int:desk_id>/enter", methods=["GET", "POST"])
@monitor_required
def enter(desk_id: int) -> ResponseReturnValue:
    """A report taken by phone or in person, for a worker."""
    desk = member_desk(desk_id)
    db = db_session()
    facilities = workplaces.all_by_country(db)
    page = dict(desk=desk, facilities=facilities, categories=CATEGORIES, languages=LANGUAGES,
                channels=replies.ON_BEHALF_CHANNELS, max_details=MAX_DETAILS_CHARS)
    if request.method == "GET":
        return render_template("monitor/enter.html", form=MultiDict(), nonce=once.new_nonce(),
                               **page)
    form = request.form
    facility = form.get("facility", "")
    nonce = form.get("nonce", "")
    if not once.valid_nonce(nonce):
        return render_template("monitor/enter.html", form=form, nonce=once.new_nonce(),
                               error="The form was incomplete; check it and send it again.",
                               **page), 400

    def enter_report() -> str:
        return replies.enter_for_worker(
            db, desk=desk, channel=Channel(form.get("channel", "")),
            language=form.get("language", "") if form.get("language") in
            {lang.code for lang in LANGUAGES} else "en",
            facility_id=int(facility) if ID.fullmatch(facility) else None,
            categories=form.getlist("category"), details=form.get("details", ""),
            actor_id=signed_in().account.id, profile=argon2_profile(settings_of()),
        )

    try:
        outcome = once.run_once(db, nonce, enter_report, pepper=settings_of().pepper)
    except (ValueError, ReportRejected, NoDeskAvailable) as exc:
        db.rollback()
        reason = getattr(exc, "reason", "bad_channel")
        messages = {
            "no_category": "Choose at least one category.",
            "unknown_category": "Choose categories from the list.",
            "unknown_facility": "Choose the workplace from the list.",
            "too_long": f"The worker's words can have at most {MAX_DETAILS_CHARS} characters.",
            "empty": "Write down the worker's words.",
            "bad_channel": "Say whether the report came by phone or in person.",
        }
        return render_template("monitor/enter.html", form=form, nonce=nonce,
                               error=messages.get(reason, "Check the form."), **page), 400
    receipt = format_receipt(outcome.result) if outcome.result else None
    return render_template("monitor/entered.html", desk=desk, receipt=receipt,
                           repeated=outcome.repeated)


@triage.get("/d/<int:desk_id>/audit")
@monitor_required
def audit(desk_id: int) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    db = db_session()
    before = request.args.get("before", "")
    events = desk_events(db, desk.id, before_id=int(before) if ID.fullmatch(before) else None)
    names = {m.account_id: a.display_name for m, a in active_members(db, desk.id)}
    return render_template("monitor/audit.html", desk=desk, events=events, names=names)
