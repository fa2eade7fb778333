"""Worker page views: parse the form, call an ``intake`` service, render the next page."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import replace

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError, validate_csrf
from limits import parse as parse_limit
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from wtforms import ValidationError

from channels.web import zawgyi
from channels.web.drafts import (
    NOT_LISTED,
    STEPS,
    Draft,
    Problem,
    check_step,
    next_step,
    parse_draft,
    previous_step,
    step_of_problem,
)
from crypto.errors import CryptoError, MalformedReceipt
from crypto.pseudonyms import (
    messagesid_key,
    messagesid_tag,
    open_with_key,
    seal_with_key,
)
from crypto.receipts import format_receipt
from intake import once
from intake.ext import database_of, settings_of
from intake.i18n import BY_CODE, LANGUAGES, language, negotiate, zawgyi_pages
from intake.kdf import argon2_profile
from intake.limits import allowed, client_tag
from intake.messaging.inbound import kept_reply
from intake.messaging.models import ProcessedInbound
from intake.remedy.models import Verdict
from intake.reports.categories import CATEGORIES
from intake.reports.models import Channel, Report
from intake.reports.service import (
    MAX_COMMENT_CHARS,
    MAX_DETAILS_CHARS,
    MAX_MESSAGE_CHARS,
    NewReport,
    NoDeskAvailable,
    ReceiptNotFound,
    ReportGone,
    ReportRejected,
    add_worker_message,
    find_by_receipt,
    record_verdict,
    submit_report,
    thread_for,
)
from intake.supplychain import service as facilities

web = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static",
    static_url_path="/static/web",
)

log = logging.getLogger("intake.web")
LIST_ALL_UP_TO = 40
REPORT_POSTS = parse_limit("30/hour")
RECEIPT_TRIES = parse_limit("10/hour")
RESUBMIT_WINDOW = dt.timedelta(hours=1)  # a reload of the receipt page shows it again
ADD_REFUSED = frozenset({"incomplete", "empty", "too_long"})  # their words are shown again


@web.url_value_preprocessor
def _pull_language(_endpoint: str | None, values: dict[str, str] | None) -> None:
    if values and "lang" in values:
        code = zawgyi.enter(values.pop("lang"))
        if language(code) is None:
            abort(404)
        g.lang = code


@web.url_defaults
def _add_language(endpoint: str, values: dict[str, str]) -> None:
    if "lang" not in values and g.get("lang") and current_app.url_map.is_endpoint_expecting(
        endpoint, "lang"
    ):
        values["lang"] = zawgyi.path_code(g.lang)


@web.app_context_processor
def _page_context() -> dict[str, object]:
    code = g.get("lang") or "en"
    return {"lang": BY_CODE[code], "lang_path": zawgyi.path_code(code),
            "zawgyi_pages": zawgyi_pages(), "zawgyi_path": zawgyi.PATH_CODE,
            "zawgyi_link": zawgyi.ZAWGYI_LINK, "unicode_link": zawgyi.UNICODE_LINK,
            "leave_url": settings_of().leave_url}


@web.app_template_filter("shown")
def _shown(text: str | None) -> str | None:
    return zawgyi.shown(text)


@web.app_template_filter("country_name")
def _country_name(code: str) -> str:
    """A country's name in the page's language (CLDR, through Babel): each workplace in a
    list says where it is, so a worker tells two alike names apart (and does not send a
    report to the desk of another country)."""
    locale = get_locale()
    name = str(locale.territories.get(code.upper(), code)) if locale is not None else code
    return zawgyi.shown(name) or code


def _session() -> Session:
    session: Session = database_of().session()
    return session


def _csrf_fresh() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return False
    return True


@web.get("/")
def start() -> ResponseReturnValue:
    suggested = negotiate(request.headers.get("Accept-Language"))
    g.lang = suggested
    return render_template("web/start.html", languages=LANGUAGES, suggested=suggested,
                           onion_url=settings_of().onion_url)


@web.get("/report")
@web.get("/followup")
def negotiated() -> ResponseReturnValue:
    code = negotiate(request.headers.get("Accept-Language"))
    target = "web.report" if request.path == "/report" else "web.followup"
    return redirect(url_for(target, lang=code), code=302)


@web.get("/<lang>/")
def home() -> ResponseReturnValue:
    return render_template("web/home.html")


# --- the report, one question per screen -------------------------------------------------


@web.get("/<lang>/report")
def report() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[: facilities.MAX_QUERY_CHARS]
    return _render_step("workplace", Draft(), set(), query=query)


@web.post("/<lang>/report")
def report_step() -> ResponseReturnValue:
    step = request.form.get("step", "")
    if step not in STEPS:
        return _render_step("workplace", Draft(), {Problem.TAMPERED}), 400
    draft, problems = parse_draft(request.form)
    action = request.form.get("go", "next")
    if not _csrf_fresh():
        return _render_step(step, draft, {Problem.EXPIRED}), 400
    if not allowed("web-report", REPORT_POSTS, client_tag()):
        return _render_step(step, draft, {Problem.TOO_MANY}), 429
    if action == "back":
        return _render_step(previous_step(step), draft, set())
    if step == "workplace":
        draft, problems = _choose_workplace(draft, problems)
        if problems or not draft.facility:
            return _render_step("workplace", draft, problems or {Problem.CHOOSE_WORKPLACE},
                                query=request.form.get("q", ""))
    draft, found = check_step(step, draft, region=_region(draft))
    problems |= found
    if problems:
        return _render_problem(step, draft, problems)
    if step == "review" and action == "send":
        return _send(draft)
    return _render_step(next_step(step), draft, set())


def _choose_workplace(draft: Draft, problems: set[Problem]) -> tuple[Draft, set[Problem]]:
    """The workplace from the radio list, or from a poster code typed in the search box."""
    if draft.facility:
        if draft.facility != NOT_LISTED and facilities.get(_session(), draft.facility_id) is None:
            return replace(draft, facility=""), problems | {Problem.UNKNOWN_WORKPLACE}
        return draft, problems
    typed = request.form.get("q", "")
    by_code = facilities.by_poster_code(_session(), typed) if typed else None
    if by_code is not None:
        return replace(draft, facility=str(by_code.id)), problems
    if typed.strip():
        return draft, problems | {Problem.UNKNOWN_WORKPLACE}
    return draft, problems | {Problem.CHOOSE_WORKPLACE}


def _region(draft: Draft) -> str | None:
    facility = facilities.get(_session(), draft.facility_id)
    return facility.country if facility else None


def _render_problem(step: str, draft: Draft, problems: set[Problem]) -> ResponseReturnValue:
    """Show the earliest step that has a problem, with what was typed kept."""
    steps = [step_of_problem(p) or step for p in problems]
    earliest = min(steps, key=STEPS.index)
    status = 400 if Problem.TAMPERED in problems else 200
    return _render_step(earliest, draft, problems), status


def _render_step(
    step: str, draft: Draft, problems: set[Problem], *, query: str = ""
) -> ResponseReturnValue:
    session = _session()
    context: dict[str, object] = {
        "step": step, "step_number": STEPS.index(step) + 1, "step_count": len(STEPS),
        "draft": draft, "problems": {p.value for p in problems}, "categories": CATEGORIES,
        "max_details": MAX_DETAILS_CHARS, "query": query[:100],
    }
    if step == "workplace":
        results = facilities.search(session, query) if query else []
        by_code = facilities.by_poster_code(session, query) if query else None
        if by_code is not None and by_code.id not in {found.id for found in results}:
            results.insert(0, by_code)
        listing = facilities.all_by_country(session) if (
            not query and facilities.count(session) <= LIST_ALL_UP_TO) else []
        context.update(results=results, listing=listing, searched=bool(query))
    if draft.facility_id:
        context["facility"] = facilities.get(session, draft.facility_id)
    if step == "review":
        context["draft"] = replace(draft, nonce=draft.nonce or secrets.token_urlsafe(18))
    return render_template(f"web/report_{step}.html", **context)


def _send(draft: Draft) -> ResponseReturnValue:
    """Store the report once, however often the worker presses Send, and show the receipt."""
    settings = settings_of()
    if not draft.nonce:
        return _render_step("review", draft, {Problem.TAMPERED}), 400
    tag = messagesid_tag(settings.pepper, "web:" + draft.nonce)
    key = messagesid_key(settings.pepper, "web:" + draft.nonce)
    database = database_of()
    sent, already = _receipt_sent_before(tag, key)
    if sent:
        return _receipt_page(already)
    new = NewReport(
        channel=Channel.WEB, language=g.lang,
        facility_id=draft.facility_id, categories=draft.categories, details=draft.details,
        contact_number=draft.number if draft.contact == "sms" else None,
        zawgyi=True if zawgyi_pages() else None,
    )
    try:
        with database.transaction() as session:
            receipt = submit_report(session, new, profile=argon2_profile(settings))
            session.add(ProcessedInbound(
                sid_tag=tag, reply_sealed=seal_with_key(key, receipt.encode(), context=b"web"),
                keep_until=dt.datetime.now(dt.UTC) + RESUBMIT_WINDOW,
            ))
    except ReportRejected:
        return _render_step("review", draft, {Problem.TAMPERED}), 400
    except NoDeskAvailable:  # no desk covers the workplace and none is the fallback
        log.error("report refused: no desk to seal it to", extra={"event": "config"})
        return _render_step("review", draft, {Problem.UNAVAILABLE}), 503
    except IntegrityError:  # the same Send, pressed twice at once: show the first receipt
        sent, already = _receipt_sent_before(tag, key)
        if not sent:
            raise
        return _receipt_page(already)
    return _receipt_page(receipt)


def _receipt_sent_before(tag: str, key: bytes) -> tuple[bool, str | None]:
    """Whether this Send was handled before, and its receipt while it is still kept."""
    with database_of().transaction() as session:
        row = session.get(ProcessedInbound, tag)
        if row is None:
            return False, None
        sealed = kept_reply(row, dt.datetime.now(dt.UTC))
        if sealed is None:
            return True, None
        try:
            return True, open_with_key(key, sealed, context=b"web").decode()
        except CryptoError:
            return True, None


def _receipt_page(receipt: str | None) -> ResponseReturnValue:
    """The receipt in large digits; for a Send repeated after the receipt was forgotten, a
    page saying the report was sent already (never a second report)."""
    if receipt is None:
        return render_template("web/already_sent.html")
    groups = format_receipt(receipt).split(" ")
    return render_template("web/receipt.html", groups=groups)


# --- follow-up with the receipt ----------------------------------------------------------


@web.get("/<lang>/followup")
def followup() -> ResponseReturnValue:
    return render_template("web/followup_login.html", problem=None, typed="")


@web.post("/<lang>/followup")
def followup_post() -> ResponseReturnValue:
    typed = request.form.get("receipt", "")[:64]
    if not _csrf_fresh():
        return render_template("web/followup_login.html", problem="expired", typed=""), 400
    if not allowed("web-receipt", RECEIPT_TRIES, client_tag()):
        return render_template("web/followup_login.html", problem="too_many", typed=""), 429
    settings = settings_of()
    with database_of().transaction() as session:
        try:
            found, worker_key = find_by_receipt(session, typed, profile=argon2_profile(settings))
        except MalformedReceipt:
            return render_template("web/followup_login.html", problem="malformed", typed=""), 200
        except ReceiptNotFound:
            if request.form.get("action") in ("add", "verdict"):  # from the thread page
                return _not_kept()
            return render_template("web/followup_login.html", problem="not_found", typed=""), 200
        try:
            notice = _followup_action(session, found)
        except ReportGone:
            return _not_kept()
        thread = thread_for(session, found, worker_key)
    kept = request.form.get("message", "")[: MAX_MESSAGE_CHARS * 2]
    return render_template(
        "web/followup_thread.html", thread=thread, receipt=typed, notice=notice,
        max_message=MAX_MESSAGE_CHARS, max_comment=MAX_COMMENT_CHARS,
        message=kept if notice in ADD_REFUSED else "",
        nonce=once.new_nonce(),
    ), 400 if notice == "incomplete" else 200


def _not_kept() -> ResponseReturnValue:
    """More words, or an answer to "was it fixed?", for a report retention deleted (its time
    was up) since the worker opened its thread: nothing was kept. The page says so and shows
    the words again, so the worker can keep them for a new report; nothing is lost without a
    word."""
    if request.form.get("action") == "verdict":
        problem, words = "gone_verdict", request.form.get("comment", "")[: MAX_COMMENT_CHARS * 2]
    else:
        problem, words = "gone", request.form.get("message", "")[: MAX_MESSAGE_CHARS * 2]
    return render_template("web/followup_login.html", problem=problem, typed="",
                           message=words), 404


def _followup_action(session: Session, found: Report) -> str | None:
    """Apply what the worker asked on the thread page (add more, once however often the form
    is sent; give a verdict)."""
    action = request.form.get("action", "")
    try:
        if action == "add":
            outcome = once.run_form_once(session, lambda: _add_more(session, found))
            return "already_added" if outcome.repeated else "added"
        if action == "verdict":
            verdict = Verdict(request.form.get("verdict", ""))
            record_verdict(session, found, verdict, request.form.get("comment", ""),
                           channel="web")
            return "verdict_saved"
    except ValueError:
        return "choose_verdict"
    except once.NonceInvalid:
        return "incomplete"
    except ReportRejected as rejected:
        return rejected.reason
    return None


def _add_more(session: Session, found: Report) -> str:
    add_worker_message(session, found, request.form.get("message", ""))
    return "added"
