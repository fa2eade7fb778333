"""The OpenAPI 3.1 document of the monitors' API, served at ``/api/v1/openapi.json``.

Written by hand as a plain dict (no generator dependency); the lists of allowed values come
from the same constants the code validates against. A test checks that every route under
``/api/v1/`` is documented with its methods, that nothing documented is missing, and that
the answers of the happy paths match the response schemas below.
"""

from __future__ import annotations

from typing import Any

from intake.api import MAX_QUEUE_LIMIT
from intake.cases.models import CaseStatus
from intake.i18n import BY_CODE
from intake.reports.models import Author, Channel, Severity, TriageStatus
from intake.triage.replies import MAX_REPLY_CHARS
from intake.triage.service import AGES, PAGE_SIZE
from intake.triage.taxonomy import DESK_CATEGORIES, MAX_TAG_CHARS, MAX_TAGS, NO_ACTION_REASONS

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **more: Any) -> Schema:
    return {"type": [kind, "null"], **more}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """A closed object: every property required unless named optional, nothing else allowed."""
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [name for name in properties if name not in optional]}


_DAY = {"type": "string", "format": "date"}
_UUID = {"type": "string", "format": "uuid"}
_UNICODE = ("The same words in Unicode when the worker typed Burmese in Zawgyi (an older "
            "font encoding); null otherwise.")
_STATUSES = [s.value for s in TriageStatus]
_SEVERITIES = [s.value for s in Severity]
_CATEGORIES = list(DESK_CATEGORIES)
_CASE_STATUSES = [s.value for s in CaseStatus]
_COUNT_MAP = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}

SCHEMAS: dict[str, Schema] = {
    "Error": _object({
        "error": {"type": "string", "enum": [
            "bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed",
            "too_large", "too_many_requests", "internal_error"]},
        "detail": {"type": "string", "description": "Why the request was refused (400)."},
    }, optional=("detail",)),
    "QueueItem": _object({
        "id": _UUID,
        "received_on": {**_DAY, "description": "The day it arrived (never the time)."},
        "status": {"type": "string", "enum": _STATUSES},
        "channel": {"type": "string", "enum": [c.value for c in Channel]},
        "language": {"type": "string"},
        "facility": _nullable("string", description="The workplace's name."),
        "country": _nullable("string"),
        "category": _nullable("string", enum=[*_CATEGORIES, None]),
        "severity": _nullable("string", enum=[*_SEVERITIES, None]),
        "tags": {"type": "array", "items": {"type": "string"}},
        "assignee_id": _nullable("integer"),
        "worker_wrote": {"type": "boolean", "description": (
            "The worker wrote (an answer to the desk's text, an addition on the follow-up "
            "page) since a member of this desk last opened the report; false for a report "
            "never opened.")},
    }),
    "QueuePage": _object({
        "items": {"type": "array", "items": _ref("QueueItem")},
        "next": _nullable("string", description="Pass as `after` for the next page; null "
                                                "on the last page."),
        "counts": {
            "type": "object", "additionalProperties": False,
            "required": ["status", "channel", "language", "category"],
            "description": "For each facet, how many reports each value would show given the "
                           "other filters (an empty key counts reports without a category).",
            "properties": {facet: _COUNT_MAP
                           for facet in ("status", "channel", "language", "category")},
        },
    }),
    "Facility": _object({
        "id": {"type": "integer"}, "name": {"type": "string"}, "country": {"type": "string"},
    }),
    "ThreadEntry": _object({
        "author": {"type": "string", "enum": [a.value for a in Author]},
        "author_name": _nullable("string", description="The desk member who replied."),
        "sent_on": _DAY,
        "text": {"type": "string"},
        "text_unicode": _nullable("string", description=_UNICODE),
        "delivery": _nullable("string", description=(
            "A desk reply texted to the worker: what became of the text, in words "
            "(\"delivered\", \"not delivered: ...\" with Twilio's reason, \"held: ...\" "
            "while WhatsApp's notice waits for the worker's answer, 14 days at most, then "
            "\"not delivered: ...\"). Null for the worker's words and for replies that were "
            "not texted.")),
    }),
    "Triage": _object({
        "report_id": _UUID,
        "status": {"type": "string", "enum": _STATUSES},
        "category": _nullable("string", enum=[*_CATEGORIES, None]),
        "severity": _nullable("string", enum=[*_SEVERITIES, None]),
        "tags": {"type": "array", "items": {"type": "string"}},
        "assignee_id": _nullable("integer"),
        "duplicate_of": _nullable("string", format="uuid"),
        "no_action_reason": _nullable("string", enum=[*NO_ACTION_REASONS, None]),
        "opened_on": _nullable("string", format="date"),
    }),
    "Report": _object({
        "id": _UUID,
        "received_on": _DAY,
        "channel": {"type": "string", "enum": [c.value for c in Channel]},
        "language": {"type": "string"},
        "worker_categories": {"type": "array", "items": {"type": "string"},
                              "description": "What the worker chose (their plainer list)."},
        "facility": {"oneOf": [_ref("Facility"), {"type": "null"}]},
        "entered_by_id": _nullable("integer", description="The member who entered it for "
                                                          "the worker (phone, in person)."),
        "sms_consent": {"type": "boolean",
                        "description": "Whether replies also go to the worker by SMS."},
        "details": _nullable("string", description="The worker's words, decrypted."),
        "details_unicode": _nullable("string", description=_UNICODE),
        "thread": {"type": "array", "items": _ref("ThreadEntry")},
        "triage": _ref("Triage"),
        "case_ids": {"type": "array", "items": _UUID},
    }),
    "TriagePatch": {
        "type": "object", "additionalProperties": False,
        "description": "Only the fields given change; each change is audited.",
        "properties": {
            "category": {"type": "string", "enum": _CATEGORIES},
            "severity": {"type": "string", "enum": _SEVERITIES},
            "tags": {"type": "array", "maxItems": MAX_TAGS,
                     "items": {"type": "string", "maxLength": MAX_TAG_CHARS,
                               "pattern": "^[^,]*$"},
                     "description": "Replaces the tags (lowercased, duplicates dropped)."},
            "assignee_id": {"type": ["integer", "null"], "minimum": 1,
                            "description": "An active member of the desk; null unassigns."},
            "status": {"type": "string", "enum": [s for s in _STATUSES if s != "in_case"],
                       "description": "`in_case` is set by linking the report to a case."},
            "no_action_reason": {"type": "string", "enum": list(NO_ACTION_REASONS),
                                 "description": "Required with status `no_action`."},
            "duplicate_of": {**_UUID, "description": "Another report of this desk."},
        },
    },
    "ReplyRequest": _object({
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_REPLY_CHARS},
    }),
    "CaseSummary": _object({
        "id": _UUID,
        "title": {"type": "string"},
        "category": {"type": "string", "enum": _CATEGORIES},
        "severity": {"type": "string", "enum": _SEVERITIES},
        "status": {"type": "string", "enum": _CASE_STATUSES},
        "facility": {"type": "string", "description": "The workplace's name."},
        "report_count": {"type": "integer", "minimum": 0},
        "opened_on": _DAY,
    }),
    "CaseList": _object({"items": {"type": "array", "items": _ref("CaseSummary")}}),
    "CaseReport": _object({
        "id": _UUID,
        "received_on": _DAY,
        "channel": {"type": "string", "enum": [c.value for c in Channel]},
        "language": {"type": "string"},
        "status": {"type": "string", "enum": _STATUSES},
        "details": _nullable("string", description="The worker's words, decrypted."),
        "details_unicode": _nullable("string", description=_UNICODE),
        "thread": {"type": "array", "items": _ref("ThreadEntry")},
    }),
    "CaseNote": _object({
        "id": _UUID,
        "author_name": _nullable("string"),
        "created_on": _DAY,
        "text": {"type": "string"},
    }),
    "Case": _object({
        "id": _UUID,
        "title": {"type": "string"},
        "category": {"type": "string", "enum": _CATEGORIES},
        "severity": {"type": "string", "enum": _SEVERITIES},
        "status": {"type": "string", "enum": _CASE_STATUSES},
        "opened_on": _DAY,
        "closed_on": _nullable("string", format="date"),
        "facility": _ref("Facility"),
        "reports": {"type": "array", "items": _ref("CaseReport")},
        "notes": {"type": "array", "items": _ref("CaseNote")},
        "summary_draft": {"oneOf": [
            _object({"text": {"type": "string"},
                     "pending_redactions": {"type": "integer", "minimum": 0,
                                            "description": "Proposed redactions not yet "
                                                           "reviewed."}}),
            {"type": "null"}]},
        "summary_approved": _nullable("string", description="The de-identified summary, "
                                                            "the only words buyers see."),
    }),
    "ReplySent": _object({
        "id": _UUID,
        "sms": {"type": "boolean", "description": "An SMS to the worker was queued."},
        "segments": {"type": "integer", "minimum": 0},
        "encoding": {"type": "string", "enum": ["GSM-7", "UCS-2"]},
    }),
}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


RESPONSES: dict[str, Schema] = {
    "BadRequest": _json(_ref("Error"), "A parameter or the JSON body is not acceptable "
                                       "(`detail` says why)."),
    "Unauthorized": {
        **_json(_ref("Error"), "No token, or a token that is malformed, unknown or revoked, "
                               "or whose owner is no longer an active member of the desk."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"},
                                         "description": "`Bearer realm=\"api\"`"}},
    },
    "NotFound": _json(_ref("Error"), "No such object in the token's desk (objects of other "
                                     "desks get the same answer)."),
    "TooLarge": _json(_ref("Error"), "The body is larger than 64 KiB."),
}


def _errors(*names: str) -> dict[str, Schema]:
    codes = {"BadRequest": "400", "Unauthorized": "401", "NotFound": "404", "TooLarge": "413"}
    return {codes[name]: {"$ref": f"#/components/responses/{name}"} for name in names}


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": _UUID,
           "description": "The case's id."}

REPORT_ID = {"name": "report_id", "in": "path", "required": True, "schema": _UUID,
             "description": "The report's id (anything that is not a UUID is not found)."}

QUEUE_PARAMETERS = [
    _query("status", "Triage status, or `all`.",
           {"type": "string", "enum": [*_STATUSES, "all"], "default": "new"}),
    _query("facility", "A facility id.", {"type": "integer", "minimum": 1}),
    _query("country", "The facility's country (ISO 3166-1 alpha-2).",
           {"type": "string", "pattern": "^[A-Za-z]{2}$"}),
    _query("language", "The report's language.", {"type": "string", "enum": list(BY_CODE)}),
    _query("channel", "How the report came in.",
           {"type": "string", "enum": [c.value for c in Channel]}),
    _query("category", "The desk's category.", {"type": "string", "enum": _CATEGORIES}),
    _query("age", "Received within a day, a week, a month, or longer ago.",
           {"type": "string", "enum": [*AGES, "older"]}),
    _query("after", "The `next` cursor of the page before.", {"type": "string"}),
    _query("limit", "Reports per page.",
           {"type": "integer", "minimum": 1, "maximum": MAX_QUEUE_LIMIT, "default": PAGE_SIZE}),
]

PATHS: dict[str, Schema] = {
    "/queue": {"get": {
        "operationId": "getQueue",
        "summary": "One page of the desk's queue: new first, then newest first.",
        "description": "Filters use the monitor UI's names and values; an unknown parameter "
                       "or value is a 400 (never silently ignored).",
        "parameters": QUEUE_PARAMETERS,
        "responses": {"200": _json(_ref("QueuePage"), "The page, its cursor and counts."),
                      **_errors("BadRequest", "Unauthorized")},
    }},
    "/reports/{report_id}": {
        "parameters": [REPORT_ID],
        "get": {
            "operationId": "getReport",
            "summary": "Open a report: decrypted details and thread. Audited; a new report "
                       "moves to in_triage.",
            "responses": {"200": _json(_ref("Report"), "The decrypted report."),
                          **_errors("Unauthorized", "NotFound")},
        },
        "patch": {
            "operationId": "patchTriage",
            "summary": "Record triage decisions on the desk's copy of the report.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("TriagePatch")}}},
            "responses": {"200": _json(_ref("Triage"), "The triage state after the change."),
                          **_errors("BadRequest", "Unauthorized", "NotFound", "TooLarge")},
        },
    },
    "/reports/{report_id}/replies": {
        "parameters": [REPORT_ID],
        "post": {
            "operationId": "postReply",
            "summary": "Reply to the worker: sealed to the worker and the desk, and sent by "
                       "SMS when the worker agreed to texts.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("ReplyRequest")}}},
            "responses": {"201": _json(_ref("ReplySent"), "The reply and its SMS cost."),
                          **_errors("BadRequest", "Unauthorized", "NotFound", "TooLarge")},
        },
    },
    "/cases": {"get": {
        "operationId": "getCases",
        "summary": "The desk's cases, newest first, with their titles decrypted.",
        "parameters": [_query("status", "Only cases in this status.",
                              {"type": "string", "enum": _CASE_STATUSES})],
        "responses": {"200": _json(_ref("CaseList"), "The cases."),
                      **_errors("BadRequest", "Unauthorized")},
    }},
    "/cases/{case_id}": {
        "parameters": [CASE_ID],
        "get": {
            "operationId": "getCase",
            "summary": "Open a case: title, notes, summary and the words of every linked "
                       "report, decrypted. Audited.",
            "responses": {"200": _json(_ref("Case"), "The decrypted case."),
                          **_errors("Unauthorized", "NotFound")},
        },
    },
    "/openapi.json": {"get": {
        "operationId": "getOpenApi",
        "summary": "This document.",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }},
}

DOCUMENT: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "Worker Voice Intake: monitor API",
        "version": "1.0.0",
        "description": "Triage a desk's reports from scripts and tools. A token belongs to "
                       "one member and one desk; make and revoke tokens on the desk's Tokens "
                       "page. Every answer is JSON; errors are `{\"error\": ...}`.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer", "bearerFormat": "wvi_<id>_<secret>",
            "description": "`Authorization: Bearer wvi_<id>_<secret>`. Shown once when made; "
                           "only a hash is stored, and the desk key it carries opens only "
                           "with the token itself.",
        }},
        "schemas": SCHEMAS,
        "responses": RESPONSES,
    },
}


def document() -> Schema:
    return DOCUMENT
