"""Malformed HTTP on every route: whatever arrives, the answer is below 500 and shows no
traceback. Bad input gets a clear 4xx, never a 500.

Every route of ``app.url_map`` (its path filled from the authorization matrix, so requests
reach the views) is walked as an anonymous client, as a signed-in monitor of desk A and, on
their own pages, as a signed-in buyer and the platform admin: methods it does not accept,
broken bodies, tampered cookies, broken query strings and odd headers. Form variants carry
the session's valid CSRF token and Twilio's are signed over the form as parsed, so the broken
values get past the first check.

The world and the sign-ins are test_authz's; the app is put behind the production proxy check
(``intake.serving.BehindProxy``) trusting ``PROXY``, which sends the ``X-Forwarded-*``
variants. Each request comes from its own address, so the page limit counts none twice.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder, TestResponse, encode_multipart

from intake.accounts.guard import KEY_COOKIE
from intake.db import Database
from intake.serving import BehindProxy
from intake.settings import Settings
from tests.conftest import running_app
from tests.monitor.conftest import Browser
from tests.sms.conftest import MY_NUMBER, new_sid
from tests.test_authz import (
    LAST,
    MATRIX,
    Cell,
    World,
    forget_last_code,
    module_settings,
    module_twilio,
    refusal,
    request_cell,
    template_of,
    world,
)

__all__ = ["module_settings", "module_twilio", "world"]

PROXY = "127.0.0.1"  # nginx: the only peer whose X-Forwarded-* headers are believed
SESSION_COOKIE = "intake_session"
TRACEBACK = ("Traceback (most recent call last)", "werkzeug.debug")

# Every form field, upload and query parameter a view reads (grep ``form.get``, ``args.get``,
# ``files.get``): each variant breaks all of them at once, and a view takes the ones it knows.
FIELDS = ("action", "assignee", "body", "buyer", "buyer_org_id", "category", "channel",
          "comment", "confirm_reidentification", "contact", "current", "description",
          "details", "display_name", "draft_id", "due_on", "duplicate_of", "email",
          "evidence", "facility", "file", "go", "hidden", "k_threshold", "alert_batch_hour",
          "kind", "language", "message", "name", "names", "next", "number", "owner", "password",
          "q", "reason", "receipt", "remedy_action", "report_ids", "reports", "severity",
          "status", "step", "summary", "tags", "text", "title", "url", "verdict", "code", "Body",
          "NumMedia", "MessageStatus", "ErrorCode")
QUERY = ("q", "next", "status", "reports", "before", "after", "limit", "facility", "country",
         "language", "channel", "category", "age")
# Fields that must stay valid for a request to get past its first check.
KEEP = frozenset({"csrf_token", "nonce", "From", "To", "MessageSid"})

ESCAPES = ("%zz", "%", "%E0%A4")  # not hex, cut short, half a UTF-8 character
NOT_UTF8 = b"\xff\xfe\xc3("
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- the routes, from the authorization matrix ---------------------------------------------


def _paths() -> dict[str, dict[str, Cell]]:
    """Path template -> method -> the matrix's cell (a path may hold several endpoints)."""
    paths: dict[str, dict[str, Cell]] = {}
    for key in MATRIX:
        paths.setdefault(key[2], {})[key[1]] = key
    return paths


PATHS = _paths()


def _order(template: str) -> int:
    """The paths of ``LAST`` (revoking the API token, removing a member, signing out) last."""
    ends = [LAST.index(key[:2]) for key in PATHS[template].values() if key[:2] in LAST]
    return min(ends, default=-1)


# Everyone walks every path; a buyer and the platform admin walk their own pages too. The
# monitor goes last: its cells change the world.
ROLES = {"anonymous": "/", "buyer_a": "/buyer/", "admin": "/monitor/admin/", "monitor_a": "/"}
WALKS = [(role, template) for role, under in ROLES.items()
         for template in sorted(PATHS, key=_order) if template.startswith(under)]


def test_the_walk_covers_every_route_of_the_app(module_app: Flask) -> None:
    routes = {(rule.endpoint, template_of(rule)) for rule in module_app.url_map.iter_rules()}
    walked = {(key[0], key[2]) for methods in PATHS.values() for key in methods.values()}
    assert len(routes) > 60
    assert routes == walked
    assert len(WALKS) > 100


# --- the app, behind the proxy check ------------------------------------------------------


@pytest.fixture(scope="module")
def module_app(module_settings: Settings) -> Iterator[Flask]:
    with running_app(module_settings) as app:
        app.wsgi_app = BehindProxy(app.wsgi_app, trusted=(PROXY,))  # type: ignore[method-assign]
        yield app


_addresses = itertools.count(1)


def fresh_address() -> str:
    """An address no request has come from yet: the page limit never answers for another."""
    n = next(_addresses)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


# --- one walk: a role on one path ---------------------------------------------------------


@dataclass
class Walk:
    app: Flask
    world: World
    settings: Settings
    role: str
    template: str
    browser: Browser = field(init=False)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = self.template.format(**self.world.values, **{
            name: value for key in PATHS[self.template].values()
            for name, value in MATRIX[key].fill.items()})
        self.sign_in()

    def sign_in(self) -> None:
        """test_authz's ``browser_of``, from a fresh address: the walk signs in again after
        every variant that signs out, more often than the sign-in limit allows one address."""
        db: Database = self.app.extensions["intake.db"]
        self.browser = Browser(self.app.test_client(), db,
                               environ={"REMOTE_ADDR": fresh_address()})
        member = self.world.members.get(self.role)
        if member is not None:
            forget_last_code(db, member)
            assert self.browser.login(member).status_code == 302, f"{self.role} signs in"
        self.browser.get("/monitor/password" if member else "/monitor/login")
        assert self.browser.token, "a fresh CSRF token"

    @property
    def accepted(self) -> set[str]:
        methods: set[str] = set()
        for rule in self.app.url_map.iter_rules():
            if template_of(rule) == self.template:
                methods |= rule.methods or set()
        return methods

    @property
    def primary(self) -> str:
        return "GET" if "GET" in PATHS[self.template] else sorted(PATHS[self.template])[0]

    def form(self, method: str) -> dict[str, str]:
        """The well-formed form of ``method``: the matrix's row, the session's CSRF token and
        nonce; for Twilio a whole message."""
        if self.template.startswith("/twilio/"):
            return {"From": f"+6012{secrets.randbelow(10**7):07d}", "To": MY_NUMBER,
                    "MessageSid": new_sid(), "Body": "hello", "NumMedia": "0",
                    "MessageStatus": "delivered"}
        key = PATHS[self.template].get(method)
        row = {name: value.format(**self.world.values)
               for name, value in (MATRIX[key].form if key else {}).items()}
        return {"csrf_token": self.browser.token, "nonce": self.browser.nonce, **row}

    def headers(self, extra: dict[str, str]) -> dict[str, str]:
        token = self.world.tokens.get(self.role)
        if self.path.startswith("/api/") and token and self.role != "anonymous":
            return {"Authorization": f"Bearer {token}", **extra}
        return extra

    # --- sending -----------------------------------------------------------------------

    def send(self, method: str, variant: str, *, expect: tuple[int, ...] = (),
             cookies: str | None = None, headers: dict[str, str] | None = None,
             environ: dict[str, str] | None = None, **kwargs: Any) -> None:
        """One request; a 5xx, an exception, a traceback in the body or (with ``expect``) any
        other status is written down with the route, method and variant."""
        where = f"{method} {self.template} as {self.role}, {variant}"
        sent = self.headers(headers or {})
        client = self.browser.client
        if cookies is not None:
            client = self.app.test_client(use_cookies=False)
            sent["Cookie"] = cookies
        environ = {"REMOTE_ADDR": fresh_address(), **(environ or {})}
        if self.template.startswith("/twilio/") and "X-Twilio-Signature" not in sent:
            sent["X-Twilio-Signature"] = self.twilio_signature(method, sent, environ, kwargs)
        try:
            response = client.open(self.path, method=method, headers=sent,
                                   environ_base=environ, **kwargs)
        except Exception as error:  # TESTING lets it through; in production, a 500
            lines = traceback.format_exception(error)
            self.failures.append(f"{where}: raised {''.join(lines[-4:]).strip()}")
            self.sign_in()
            return
        self.check(where, response, expect)
        if self.role != "anonymous" and self.session_ended(response):
            self.sign_in()  # a tampered key cookie signs out, as it should: sign in again

    def check(self, where: str, response: TestResponse, expect: tuple[int, ...]) -> None:
        status, body = response.status_code, response.get_data(as_text=True)
        if status >= 500:
            self.failures.append(f"{where}: {status} {body[:300]}")
        elif any(marker in body for marker in TRACEBACK):
            self.failures.append(f"{where}: {status} with a traceback in the body")
        elif expect and status not in expect:
            self.failures.append(f"{where}: {status}, not one of {expect}")

    @staticmethod
    def session_ended(response: TestResponse) -> bool:
        return any(cookie.startswith(f"{KEY_COOKIE}=;")
                   for cookie in response.headers.getlist("Set-Cookie"))

    def twilio_signature(self, method: str, headers: dict[str, str], environ: dict[str, str],
                         kwargs: dict[str, Any]) -> str:
        """Twilio's signature over the form as the app will parse it, broken or not."""
        assert self.settings.twilio_auth_token
        options = {name: value for name, value in kwargs.items()
                   if name in ("data", "query_string", "content_type", "environ_overrides")}
        request = EnvironBuilder(self.path, method=method, headers=list(headers.items()),
                                 environ_base=environ, **options).get_request()
        try:
            form = request.form
            url = self.settings.public_url + request.full_path.rstrip("?")
        except Exception:  # the app will have to cope with it: send it unsigned
            return "unsignable"
        validator = RequestValidator(self.settings.twilio_auth_token)
        return str(validator.compute_signature(url, form))

    # --- the variants ------------------------------------------------------------------

    def control(self) -> None:
        """Each method well-formed first: the role is signed in as far as it goes, and the
        path is one the views answer (the matrix's own expectations)."""
        for method, key in PATHS[self.template].items():
            response = request_cell(self.browser, key, self.world.values,
                                    self.world.tokens.get(self.role))
            why = refusal(MATRIX[key].expect[self.role], response)
            if why is not None:
                self.failures.append(f"{method} {self.template} as {self.role}, well-formed "
                                     f"(the control): {why}")

    def methods(self) -> None:
        accepted = self.accepted
        for method in METHODS:
            if method not in accepted:
                self.send(method, "a method the route does not accept", expect=(404, 405))
            elif method not in PATHS[self.template]:  # HEAD and OPTIONS, answered by Flask
                self.send(method, "a method Flask answers for the route")

    def bodies(self) -> None:
        for method in sorted(set(PATHS[self.template]) & BODY_METHODS):
            for variant, kwargs in body_variants(self.form(method)):
                self.send(method, variant, **kwargs)

    def cookies(self) -> None:
        for index in range(len(list(cookie_variants("", "")))):
            # The role's cookies as they are now: a variant before may have signed it out
            # (and ``send`` signed it in again).
            jar = self.browser.client
            session = (jar.get_cookie(SESSION_COOKIE) or _NO_COOKIE).value
            key = (jar.get_cookie(KEY_COOKIE) or _NO_COOKIE).value
            variant, header = list(cookie_variants(session, key))[index]
            self.send(self.primary, variant, cookies=header, **self.primary_body())

    def queries(self) -> None:
        for variant, query in query_variants():
            self.send(self.primary, variant, environ_overrides={"QUERY_STRING": query},
                      **self.primary_body())

    def odd_headers(self) -> None:
        for variant, headers, peer in header_variants():
            self.send(self.primary, variant, headers=headers,
                      environ={"REMOTE_ADDR": peer or fresh_address()}, **self.primary_body())

    def primary_body(self) -> dict[str, Any]:
        """The well-formed form, for a variant that breaks something else of a POST."""
        if self.primary == "GET":
            return {}
        if self.path.startswith("/api/"):
            return {"data": json.dumps(_api_form(self.primary, self.template)),
                    "content_type": "application/json"}
        return {"data": self.form(self.primary)}


class _NoCookie:
    value = ""


_NO_COOKIE = _NoCookie()


def _api_form(method: str, template: str) -> dict[str, str]:
    key = PATHS[template].get(method)
    return dict(MATRIX[key].form) if key else {}


# --- the variants, as data ----------------------------------------------------------------


def _urlencoded(pairs: list[tuple[bytes, bytes]]) -> bytes:
    return b"&".join(name + b"=" + value for name, value in pairs)


def _pairs(form: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), quote(value).encode()) for name, value in form.items()]


def _broken(form: dict[str, str], value: bytes) -> bytes:
    """``form``'s fields that must stay valid, every other field the app reads as ``value``,
    and a field whose name is ``value``."""
    kept = [(name, raw) for name, raw in _pairs(form) if name.decode() in KEEP]
    return _urlencoded([*kept, *((name.encode(), value) for name in FIELDS if name not in KEEP),
                        (value, b"1")])


def _files(form: dict[str, str], boundary: str) -> bytes:
    """``form`` as multipart, every other field the app reads as a file of bytes that are
    not UTF-8 (bytes, not file objects: the Twilio signature parses the body once more)."""
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in form.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
              f'filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
              + NOT_UTF8 + b"\r\n" for name in FIELDS if name not in KEEP]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def body_variants(form: dict[str, str]) -> Iterator[tuple[str, dict[str, Any]]]:
    urlencoded = "application/x-www-form-urlencoded"
    boundary, multipart = encode_multipart(form, boundary="b0undary")
    yield "multipart without a boundary", {"data": multipart,
                                           "content_type": "multipart/form-data"}
    yield "multipart with an empty boundary", {"data": multipart,
                                               "content_type": "multipart/form-data; boundary="}
    with_boundary = f"multipart/form-data; boundary={boundary}"
    yield "multipart cut in the middle", {"data": multipart[: len(multipart) // 2],
                                          "content_type": with_boundary}
    yield "multipart never closed", {
        "data": multipart.removesuffix(f"--{boundary}--\r\n".encode()),
        "content_type": with_boundary}
    yield "multipart with files for every field", {"data": _files(form, boundary),
                                                   "content_type": with_boundary}
    for escape in ESCAPES:
        yield f"form with {escape!r} in every field", {
            "data": _broken(form, escape.encode()), "content_type": urlencoded}
    yield "form with bytes that are not UTF-8", {"data": _broken(form, NOT_UTF8),
                                                 "content_type": urlencoded}
    yield "form with every field twice", {"data": _urlencoded(
        [pair for name, raw in _pairs(form) for pair in ((name, raw), (name, b"other"))]
        + [pair for name in FIELDS for pair in ((name.encode(), b"1"), (name.encode(), b"2"))]),
        "content_type": urlencoded}
    yield "JSON sent as a form", {"data": json.dumps(form), "content_type": urlencoded}
    yield "a form sent as JSON", {"data": _urlencoded(_pairs(form)),
                                  "content_type": "application/json"}
    yield "JSON cut short", {"data": b'{"text": "hel', "content_type": "application/json"}
    yield "JSON with bytes that are not UTF-8", {"data": b'{"text": "' + NOT_UTF8 + b'"}',
                                                 "content_type": "application/json"}
    yield "JSON that is not an object", {"data": b"[1, 2]", "content_type": "application/json"}
    yield "JSON nested 30,000 deep", {"data": b"[" * 30_000, "content_type": "application/json"}
    yield "a form over the size limit", {"data": _urlencoded(_pairs(form)) + b"&pad="
                                         + b"x" * 70_000, "content_type": urlencoded}


def cookie_variants(session: str, key: str) -> Iterator[tuple[str, str]]:
    """(variant, Cookie header). ``session`` and ``key`` are the role's real cookies (empty
    for an anonymous client's key); the app sets no other cookie (CSRF lives in the session)."""
    def jar(session_value: str = session, key_value: str = key) -> str:
        return f"{SESSION_COOKIE}={session_value}; {KEY_COOKIE}={key_value}"

    flipped = ("A" if session[-1:] != "A" else "B")
    yield "a garbage session cookie", jar(session_value="garbage!!%zz")
    yield "the session cookie cut short", jar(session_value=session[: len(session) // 2])
    yield "the session cookie tampered", jar(session_value=session[:-1] + flipped)
    yield "a session cookie of 4,000 characters", jar(session_value="A" * 4000)
    yield "the session cookie twice", f"{SESSION_COOKIE}=garbage; {jar()}"
    yield "a quoted session cookie with escapes", jar(session_value='"\\"\\\\\\377"')
    yield "a garbage key cookie", jar(key_value="!!not base64%zz")
    yield "the key cookie cut short", jar(key_value=key[: len(key) // 2])
    yield "the key cookie tampered", jar(key_value=("B" if key[:1] == "A" else "A") + key[1:])
    yield "a key cookie of the wrong length", jar(
        key_value=base64.urlsafe_b64encode(b"short").decode())
    yield "a key cookie that is not ASCII", jar(key_value="é€".encode().decode("latin-1"))
    yield "a cookie header with bytes that are not UTF-8", jar(
        session_value="\xff\xfe\xc3(", key_value="\x80")
    yield "an unparseable cookie header", ';;;==;"=; =x; ' + jar()
    yield "2,000 cookies", "; ".join(f"c{i}=v{i}" for i in range(2000)) + "; " + jar()


def query_variants() -> Iterator[tuple[str, str]]:
    """(variant, raw query string as WSGI passes it: latin-1 text of the bytes)."""
    yield "every parameter read, twice", "&".join(f"{n}=1&{n}=2" for n in QUERY)
    for escape in ESCAPES:
        yield f"{escape!r} in every parameter", "&".join(f"{n}={escape}" for n in QUERY) + (
            f"&{escape}=1")
    yield "bytes that are not UTF-8", "&".join(f"{n}=\xff\xfe" for n in QUERY) + "&\xff=1"
    yield "2,000 parameters", "&".join(f"{QUERY[i % len(QUERY)]}={i}&p{i}=x" for i in range(1000))
    yield "odd values", ("after=!!!&before=not-a-time&limit=99999999999999999999&status=<x>"
                         "&next=//evil.example&age=x&facility=1 OR 1=1&reports=x,,y"
                         "&country=\xe2\x82\xac&q=" + "x" * 4000)  # "€" as WSGI spells it


def header_variants() -> Iterator[tuple[str, dict[str, str], str | None]]:
    """(variant, headers, the peer that sends them: ``PROXY`` for X-Forwarded-*)."""
    yield "2,000 languages in Accept-Language", {"Accept-Language": ",".join(
        f"l{i}-X{i};q=0.{i % 10}" for i in range(2000))}, None
    yield "an Accept-Language of garbage", {
        "Accept-Language": "en;q=abc, ;q=, *;q=2, \xe4-\xfc;q=1, ,,;;, zz-ZZ-x-y-z"}, None
    yield "Content-Type multipart with an empty boundary", {
        "Content-Type": "multipart/form-data; boundary="}, None
    yield "a Content-Type with broken parameters", {
        "Content-Type": 'application/x-www-form-urlencoded; charset="klingon; ;=; boundary'}, None
    for forwarded in ("not-an-address", "1.2.3.4.5", "::::::::::", "", "\xff\xfe",
                      ", ".join(["203.0.113.9"] * 2000)):
        yield f"X-Forwarded-For {forwarded[:20]!r} from the proxy", {
            "X-Forwarded-For": forwarded}, PROXY
    for proto in ("gopher", "https, http", "", "\xff"):
        yield f"X-Forwarded-Proto {proto!r} from the proxy", {
            "X-Forwarded-Proto": proto, "X-Forwarded-For": "203.0.113.9"}, PROXY
    yield "X-Forwarded-For from a client the app does not trust", {
        "X-Forwarded-For": "not-an-address", "X-Forwarded-Proto": "gopher"}, None
    yield "an Authorization header of garbage", {"Authorization": "Bearer \xff wvi_%zz"}, None
    yield "an X-Twilio-Signature of garbage", {"X-Twilio-Signature": "\xff%zz"}, None


# --- the walk -----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "template"), WALKS, ids=[f"{r}-{t}" for r, t in WALKS])
def test_malformed_requests_get_a_4xx_never_a_5xx(
    role: str, template: str, module_app: Flask, world: World, module_settings: Settings,
) -> None:
    walk = Walk(module_app, world, module_settings, role, template)
    walk.control()
    walk.methods()
    walk.bodies()
    walk.queries()
    walk.odd_headers()
    walk.cookies()  # last: a tampered key cookie signs the role out (it signs in again)
    assert not walk.failures, "\n".join(walk.failures)
