"""HTTP for the monitors' API: the ``api`` blueprint (JSON under ``/api/v1``, bearer tokens,
one desk per token) and the ``tokens`` page where a monitor makes and revokes tokens.

Every answer of the API is JSON, errors included: 400 ``bad_request`` (with a ``detail``),
401 ``unauthorized``, 404 ``not_found`` (also for another desk's objects: a token of desk A
learns nothing about desk B; with a ``detail`` for a report retention deleted during the
call), 405, 413. The mapping from errors to answers is in one place,
``_errors`` below.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    request,
)
from flask.typing import ResponseReturnValue
from limits import parse as parse_limit
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from intake.api import MAX_QUEUE_LIMIT
from intake.api import tokens as api_tokens
from intake.api.openapi import document
from intake.api.tokens import ApiCaller, TokenInvalid
from intake.cases.models import CaseStatus
from intake.cases.service import CaseNotFound, CaseRow, CaseView, list_cases, open_case
from intake.db import MAX_ID
from intake.edge import unstorable_text
from intake.errors import IntakeError
from intake.ext import database_of
from intake.i18n import BY_CODE
from intake.limits import allowed, client_tag
from intake.messaging.outbound import send_soon
from intake.reports.burmese import from_zawgyi
from intake.reports.models import (
    QUEUE_RANK,
    Author,
    Channel,
    ReportDesk,
    Severity,
    TriageStatus,
)
from intake.reports.service import ReportGone
from intake.triage import replies
from intake.triage.service import (
    AGES,
    PAGE_SIZE,
    Cursor,
    Entry,
    OpenedReport,
    QueueFilter,
    QueueRow,
    ReportNotFound,
    TriageChange,
    TriageRejected,
    apply_change,
    open_report,
    queue_counts,
    queue_page,
    triage_row,
)
from intake.triage.taxonomy import DESK_CATEGORIES, MAX_TAG_CHARS, MAX_TAGS, NO_ACTION_REASONS

api = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = frozenset({"api.openapi_json"})
# Per rotating client tag: all calls, and calls with a wrong token (guessing is hopeless
# against 256-bit secrets, but a client that keeps failing is stopped early).
API_LIMIT = parse_limit("600 per minute")
BAD_TOKEN_LIMIT = parse_limit("20 per 10 minutes")
_DIGITS = re.compile(r"[0-9]{1,10}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


class BadInput(IntakeError):
    """The request's parameters or JSON body are not acceptable; the message says why."""


class NoToken(IntakeError):
    """The request carries no bearer token."""


# --- errors: the one place that turns failures into answers ---------------------------------

_ERROR_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "too_large", 415: "bad_request",
                429: "too_many_requests", 500: "internal_error"}


def _error(status: int, detail: str | None = None, *, invalid_token: bool = False) -> Response:
    body = {"error": _ERROR_NAMES.get(status, "error")}
    if detail:
        body["detail"] = detail
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        # RFC 6750: say which scheme, and whether a presented token was the problem.
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="api", error="invalid_token"' if invalid_token else 'Bearer realm="api"')
    return response


def _rolled_back(handler: Callable[[Exception], Response]) -> Callable[[Exception], Response]:
    @wraps(handler)
    def wrapper(error: Exception) -> Response:
        database_of().session().rollback()  # nothing half-done is committed later
        return handler(error)
    return wrapper


@api.errorhandler(BadInput)
@api.errorhandler(TriageRejected)
@_rolled_back
def _bad_input(error: Exception) -> Response:
    return _error(400, str(error))


@api.errorhandler(ReportNotFound)
@api.errorhandler(CaseNotFound)
@_rolled_back
def _not_found(_error_: Exception) -> Response:
    return _error(404)


@api.errorhandler(ReportGone)
@_rolled_back
def _gone(error: Exception) -> Response:
    return _error(404, str(error))  # retention deleted it meanwhile: only its id is named


@api.errorhandler(NoToken)
def _no_token(_error_: Exception) -> Response:
    return _error(401)


@api.errorhandler(TokenInvalid)
@_rolled_back
def _unauthorized(_error_: Exception) -> Response:
    allowed("api-bad-token", BAD_TOKEN_LIMIT, client_tag())  # counts toward the lock-out
    return _error(401, invalid_token=True)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    detail = {413: "the body is too large", 415: "send JSON (Content-Type: application/json)"}
    response = _error(status, detail.get(status))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


# By code, not by class: the app has code handlers (worker error pages) that would win.
for _code in _ERROR_NAMES:
    api.register_error_handler(_code, _http_error)


@api.before_app_request
def _unrouted_api_path() -> ResponseReturnValue | None:
    """A path under /api/v1/ that no route matches still gets a JSON answer (routing
    failures belong to no blueprint, so the handlers above never see them)."""
    failure = request.routing_exception
    if request.path.startswith(f"{api.url_prefix}/") and isinstance(
            failure, NotFound | MethodNotAllowed):
        return _http_error(failure)
    return None


# --- who is calling -------------------------------------------------------------------------


@api.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if not allowed("api", API_LIMIT, client_tag()) or _too_many_bad_tokens():
        abort(429)
    text = api_tokens.parse_bearer(request.headers.get("Authorization"))
    if text is None:
        raise NoToken("no bearer token")
    db = database_of().session()
    g.api_caller = api_tokens.authenticate(db, text)
    db.commit()  # the day of last use sticks even if the request then fails


def _too_many_bad_tokens() -> bool:
    limiter = current_app.extensions["intake.limiter"]
    return bool(limiter.enabled
                and not limiter.limiter.test(BAD_TOKEN_LIMIT, "api-bad-token", client_tag()))


def caller() -> ApiCaller:
    found: ApiCaller = g.api_caller
    return found


# --- reading input --------------------------------------------------------------------------


def _report_id(value: str) -> uuid.UUID:
    """A path that names no report is simply not found, like any other report."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ReportNotFound("not a report id") from None


def _case_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CaseNotFound("not a case id") from None


def _json_object(allowed: frozenset[str]) -> dict[str, Any]:
    if not request.is_json:
        raise BadInput("send a JSON object with Content-Type: application/json")
    try:
        body = json.loads(request.get_data())
    except (ValueError, RecursionError):
        raise BadInput("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    if unstorable_text(body):
        raise BadInput("text may not contain NUL characters or unpaired surrogates "
                       "(\\ud800 to \\udfff without their other half)")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadInput(f"unknown field: {unknown[0][:40]}")
    return body


def _string(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInput(f"{name} must be a string")
    return value


def _choice(name: str, value: str, allowed: Mapping[str, Any] | tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadInput(f"{name}: not one of the allowed values")
    return value


def _account_id(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise BadInput(f"{name} must be an account id or null")
    return value


# --- the queue ------------------------------------------------------------------------------

QUEUE_PARAMS = frozenset({"status", "facility", "country", "language", "channel", "category",
                          "age", "after", "limit"})


def _queue_query(args: Mapping[str, str]) -> tuple[QueueFilter, Cursor | None, int]:
    """The UI's filter names and values, but strict: a value the UI would quietly ignore is
    a 400 here, so a typo in a script does not turn into a different list."""
    unknown = sorted(set(args) - QUEUE_PARAMS)
    if unknown:
        raise BadInput(f"unknown query parameter: {unknown[0][:40]}")
    status = _choice("status", args.get("status", "new"), (*TriageStatus, "all"))
    facility = args.get("facility")
    if facility is not None and not (_DIGITS.fullmatch(facility) and 0 < int(facility) <= MAX_ID):
        raise BadInput("facility must be a facility id")
    country = args.get("country")
    if country is not None and not _COUNTRY.fullmatch(country):
        raise BadInput("country must be a two-letter country code")
    language = args.get("language")
    channel = args.get("channel")
    category = args.get("category")
    age = args.get("age")
    flt = QueueFilter(
        status=TriageStatus(status) if status != "all" else None,
        facility_id=int(facility) if facility is not None else None,
        country=country.upper() if country is not None else None,
        language=_choice("language", language, BY_CODE) if language is not None else None,
        channel=Channel(_choice("channel", channel, tuple(Channel))) if channel else None,
        category=_choice("category", category, DESK_CATEGORIES) if category is not None
        else None,
        age=_choice("age", age, (*AGES, "older")) if age is not None else None,
    )
    return flt, _cursor(args.get("after")), _limit(args.get("limit"))


def _cursor(value: str | None) -> Cursor | None:
    if value is None:
        return None
    cursor = Cursor.decode(value[:80])
    if cursor is None or cursor.rank not in QUEUE_RANK.values():
        raise BadInput("after must be the next cursor of an earlier page")
    return cursor


def _limit(value: str | None) -> int:
    if value is None:
        return PAGE_SIZE
    if not (_DIGITS.fullmatch(value) and 0 < int(value) <= MAX_QUEUE_LIMIT):
        raise BadInput(f"limit must be a number from 1 to {MAX_QUEUE_LIMIT}")
    return int(value)


def _queue_item(row: QueueRow) -> dict[str, Any]:
    return {
        "id": str(row.report_id), "received_on": row.received_on.isoformat(),
        "status": row.status.value, "channel": row.channel.value, "language": row.language,
        "facility": row.facility_name, "country": row.country, "category": row.category,
        "severity": row.severity.value if row.severity else None, "tags": row.tags,
        "assignee_id": row.assignee_id, "worker_wrote": row.worker_wrote,
    }


@api.get("/queue")
def queue() -> ResponseReturnValue:
    who = caller()
    flt, after, limit = _queue_query(request.args)
    db = database_of().session()
    rows, cursor = queue_page(db, who.desk_id, flt, after=after, limit=limit)
    return {"items": [_queue_item(row) for row in rows],
            "next": cursor.encode() if cursor else None,
            "counts": queue_counts(db, who.desk_id, flt)}


# --- one report -----------------------------------------------------------------------------


def _triage(row: ReportDesk) -> dict[str, Any]:
    return {
        "report_id": str(row.report_id), "status": row.status.value, "category": row.category,
        "severity": row.severity.value if row.severity else None,
        "tags": [t for t in row.tags.split(",") if t], "assignee_id": row.assignee_id,
        "duplicate_of": str(row.duplicate_of_id) if row.duplicate_of_id else None,
        "no_action_reason": row.no_action_reason,
        "opened_on": row.opened_on.isoformat() if row.opened_on else None,
    }


def _thread(entries: list[Entry]) -> list[dict[str, Any]]:
    return [{"author": e.author.value, "author_name": e.author_name,
             "sent_on": e.sent_on.isoformat(), "text": e.text,
             "text_unicode": from_zawgyi(e.text) if e.author is Author.WORKER else None,
             "delivery": e.delivery}
            for e in entries]


def _opened(opened: OpenedReport) -> dict[str, Any]:
    report, facility = opened.report, opened.facility
    return {
        "id": str(report.id), "received_on": report.received_on.isoformat(),
        "channel": report.channel.value, "language": report.language,
        "worker_categories": [c for c in report.categories.split(",") if c],
        "facility": {"id": facility.id, "name": facility.name, "country": facility.country}
        if facility else None,
        "entered_by_id": report.entered_by_id,
        "sms_consent": report.contact_consent,
        "details": opened.details,
        "details_unicode": from_zawgyi(opened.details) if opened.details else None,
        "thread": _thread(opened.entries),
        "triage": _triage(opened.triage),
        "case_ids": [str(case_id) for case_id in opened.case_ids],
    }


@api.get("/reports/<report_id>")
def report(report_id: str) -> ResponseReturnValue:
    who = caller()
    db = database_of().session()
    opened = open_report(db, desk_id=who.desk_id, report_id=_report_id(report_id),
                         desk_key=who.desk_key, actor_id=who.account.id)
    body = _opened(opened)
    db.commit()
    return body


TRIAGE_FIELDS = frozenset({"category", "severity", "tags", "assignee_id", "status",
                           "no_action_reason", "duplicate_of"})


def _triage_change(body: Mapping[str, Any]) -> TriageChange:
    category = _string(body, "category")
    severity = _string(body, "severity")
    status = _string(body, "status")
    reason = _string(body, "no_action_reason")
    duplicate_of = _string(body, "duplicate_of")
    try:
        duplicate = uuid.UUID(duplicate_of) if duplicate_of is not None else None
    except ValueError:
        raise BadInput("duplicate_of must be a report id") from None
    return TriageChange(
        category=_choice("category", category, DESK_CATEGORIES) if category is not None
        else None,
        severity=Severity(_choice("severity", severity, tuple(Severity))) if severity else None,
        tags=_tags(body.get("tags")),
        assignee_id=_account_id(body, "assignee_id"),
        unassign="assignee_id" in body and body["assignee_id"] is None,
        status=TriageStatus(_choice("status", status, tuple(TriageStatus))) if status else None,
        no_action_reason=_choice("no_action_reason", reason, NO_ACTION_REASONS)
        if reason is not None else None,
        duplicate_of=duplicate,
    )


def _tags(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise BadInput("tags must be a list of strings")
    if len(value) > MAX_TAGS:
        raise BadInput(f"at most {MAX_TAGS} tags")
    if any("," in tag or len(tag) > MAX_TAG_CHARS for tag in value):
        raise BadInput(f"a tag has at most {MAX_TAG_CHARS} characters and no comma")
    return ",".join(value)


@api.patch("/reports/<report_id>")
def triage(report_id: str) -> ResponseReturnValue:
    who = caller()
    rid = _report_id(report_id)
    change = _triage_change(_json_object(TRIAGE_FIELDS))
    db = database_of().session()
    triage_row(db, who.desk_id, rid)  # 404 for the report itself; below, for duplicate_of
    try:
        row = apply_change(db, desk_id=who.desk_id, report_id=rid, change=change,
                           actor_id=who.account.id)
    except ReportNotFound:
        raise BadInput("duplicate_of names no report of this desk") from None
    body = _triage(row)
    db.commit()
    return body


@api.post("/reports/<report_id>/replies")
def reply(report_id: str) -> ResponseReturnValue:
    """Sealed to the worker and the desk; the SMS job is queued only after the commit."""
    who = caller()
    rid = _report_id(report_id)
    text = _string(_json_object(frozenset({"text"})), "text")
    if text is None:
        raise BadInput("text is required")
    db = database_of().session()
    sent = replies.reply(db, desk_id=who.desk_id, report_id=rid, text=text,
                         actor_id=who.account.id)
    db.commit()
    if sent.outbound is not None:
        send_soon(sent.outbound.id)
    return {"id": str(sent.message.id), "sms": sent.outbound is not None,
            "segments": sent.segments.segments, "encoding": sent.segments.encoding}, 201


# --- cases ---------------------------------------------------------------------------------


def _case_row(row: CaseRow) -> dict[str, Any]:
    return {"id": str(row.id), "title": row.title, "category": row.category,
            "severity": row.severity.value, "status": row.status.value,
            "facility": row.facility_name, "report_count": row.report_count,
            "opened_on": row.opened_on.isoformat()}


def _case_view(view: CaseView) -> dict[str, Any]:
    case, facility, summary = view.case, view.facility, view.summary
    return {
        "id": str(case.id), "title": view.title, "category": case.category,
        "severity": case.severity.value, "status": case.status.value,
        "opened_on": case.opened_on.isoformat(),
        "closed_on": case.closed_on.isoformat() if case.closed_on else None,
        "facility": {"id": facility.id, "name": facility.name, "country": facility.country},
        "reports": [{"id": str(r.report_id), "received_on": r.received_on.isoformat(),
                     "channel": r.channel.value, "language": r.language,
                     "status": r.status.value, "details": r.details,
                     "details_unicode": from_zawgyi(r.details) if r.details else None,
                     "thread": _thread(r.entries)} for r in view.reports],
        "notes": [{"id": str(n.id), "author_name": n.author_name,
                   "created_on": n.created_at.date().isoformat(), "text": n.text}
                  for n in view.notes],
        "summary_draft": {"text": summary.text, "pending_redactions": len(summary.pending)}
        if summary else None,
        "summary_approved": case.summary_approved,
    }


@api.get("/cases")
def cases() -> ResponseReturnValue:
    who = caller()
    unknown = sorted(set(request.args) - {"status"})
    if unknown:
        raise BadInput(f"unknown query parameter: {unknown[0][:40]}")
    status = request.args.get("status")
    rows = list_cases(database_of().session(), desk_id=who.desk_id, desk_key=who.desk_key,
                      status=CaseStatus(_choice("status", status, tuple(CaseStatus)))
                      if status is not None else None)
    return {"items": [_case_row(row) for row in rows]}


@api.get("/cases/<case_id>")
def case(case_id: str) -> ResponseReturnValue:
    """Audited: it opens the words of every linked report."""
    who = caller()
    db = database_of().session()
    view = open_case(db, desk_id=who.desk_id, case_id=_case_id(case_id), desk_key=who.desk_key,
                     actor_id=who.account.id)
    body = _case_view(view)
    db.commit()
    return body


# --- the document ---------------------------------------------------------------------------


@api.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return document()
