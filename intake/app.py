"""The app factory: ``create_app(settings)`` wires extensions, blueprints and request logging."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any

from flask import Flask, Response, request
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from flask_session import Session as ServerSideSession
from flask_wtf import CSRFProtect

from intake.db import Database
from intake.edge import register_edge_checks
from intake.errors import ConfigError
from intake.health import health
from intake.i18n import init_babel
from intake.jobs import make_queue
from intake.limits import PageLimiter, client_tag, counts_itself
from intake.logs import configure_logging, install_request_logging
from intake.machines import for_every_request
from intake.sessions import SessionsExceptUnder
from intake.settings import Settings

MAX_BODY_BYTES = 64 * 1024


class IntakeFlask(Flask):
    """Flask, for an app whose views and hooks are all plain functions.

    Flask asks of every hook and view, on every request, whether it is an ``async def``
    function (``ensure_sync``, about five Python calls each: some eighty a request here).
    This app has none, and could not run one (Flask's async extra is not installed): the
    question is answered once, when the app is built (``_refuse_coroutines``).
    """

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return func

    # --- machine routes -----------------------------------------------------------------
    # Blueprints that only other services call (Twilio's signed webhooks), never a browser,
    # are named in ``machine_blueprints`` (``intake.machines.serve_machines``). Their requests
    # run only the app-wide hooks marked ``every_request`` (the NUL check, the request
    # log, the security headers) and the blueprint's own: CSRF, the per-address page limit
    # and its headers, the desk's key cookie and the worker pages' headers concern browsers,
    # and a webhook has no session to save. About 5% of a webhook's instructions
    # (bench/NOTES.md).

    machine_blueprints: frozenset[str] = frozenset()

    def preprocess_request(self) -> ResponseReturnValue | None:
        if request.blueprint not in self.machine_blueprints:
            return super().preprocess_request()
        for name in (None, *reversed(request.blueprints)):
            for url_func in self.url_value_preprocessors.get(name, ()):
                url_func(request.endpoint, request.view_args)
        before: list[Callable[..., Any]] = [*self._before_every_request]
        for name in reversed(request.blueprints):
            before += self.before_request_funcs.get(name, ())
        for before_func in before:
            answer: ResponseReturnValue | None = before_func()
            if answer is not None:
                return answer
        return None

    def process_response(self, response: Response) -> Response:
        if request.blueprint not in self.machine_blueprints:
            return super().process_response(response)
        after: list[Callable[..., Any]] = [*request_ctx._after_request_functions]
        for name in request.blueprints:
            after += reversed(self.after_request_funcs.get(name, ()))
        for after_func in (*after, *reversed(self._after_every_request)):
            response = after_func(response)
        return response  # no session to save: machine routes never open one

    # Flask refuses new hooks once a request has been handled, so these never go stale.
    @functools.cached_property
    def _before_every_request(self) -> list[Callable[..., Any]]:
        return [f for f in self.before_request_funcs.get(None, ()) if for_every_request(f)]

    @functools.cached_property
    def _after_every_request(self) -> list[Callable[..., Any]]:
        return [f for f in self.after_request_funcs.get(None, ()) if for_every_request(f)]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app for ``settings`` (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    app = IntakeFlask("intake", instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        SESSION_COOKIE_NAME="intake_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=30),
    )
    app.extensions["intake.settings"] = settings

    configure_logging()
    database = Database(settings.database_url)
    app.extensions["intake.db"] = database
    app.teardown_appcontext(database.remove)

    _init_sessions(app, settings)
    limiter = _init_limiter(app, settings)
    app.extensions["intake.limiter"] = limiter
    app.extensions["intake.jobs"] = make_queue(settings)
    app.extensions["intake.jobs"].bind(app)

    register_edge_checks(app)  # before CSRF, which reads the form
    app.extensions["intake.csrf"] = CSRFProtect(app)
    init_babel(app)
    # Probes must get their 503 when Redis (the limits' storage) is down, not a 500; the
    # check is two pings, cheaper than counting it.
    limiter.exempt(health)
    app.register_blueprint(health)
    _init_desk(app)
    _init_channels(app)
    install_request_logging(app)
    _refuse_coroutines(app)
    return app


def _registered(app: Flask) -> Iterator[Callable[..., Any]]:
    """Every view and hook the app calls."""
    yield from app.view_functions.values()
    for registry in (app.before_request_funcs, app.after_request_funcs,
                     app.teardown_request_funcs, app.url_value_preprocessors,
                     app.template_context_processors):
        for functions in registry.values():
            yield from functions
    yield from app.teardown_appcontext_funcs
    for by_code in app.error_handler_spec.values():
        for handlers in by_code.values():
            yield from handlers.values()


def _refuse_coroutines(app: Flask) -> None:
    """``IntakeFlask`` runs every view and hook as it is: an ``async def`` one is refused at
    start, not left to fail on a request."""
    for function in _registered(app):
        if inspect.iscoroutinefunction(function):
            raise ConfigError(f"{getattr(function, '__qualname__', function)} is async: "
                              "this app runs only plain functions")


def _init_desk(app: Flask) -> None:
    """The monitor desk (sign-in and members, triage, cases, API) and the buyer portal."""
    from intake.accounts.guard import set_key_cookie
    from intake.accounts.views import auth
    from intake.alerts.views import alerts
    from intake.api.token_views import tokens
    from intake.api.views import api
    from intake.buyers.views import buyer
    from intake.cases.views import cases
    from intake.dashboards.views import dashboards
    from intake.headers import register_security_headers
    from intake.once import new_nonce
    from intake.remedy.verdict_views import verdicts
    from intake.remedy.views import remedy
    from intake.supplychain.views import admin
    from intake.triage.views import triage

    for blueprint in (auth, triage, cases, alerts, tokens, api, buyer, dashboards, verdicts,
                      remedy, admin):
        app.register_blueprint(blueprint)
    app.extensions["intake.csrf"].exempt(api)  # bearer tokens, no cookies: nothing to forge
    app.add_template_global(new_nonce)  # a form that creates something acts once (intake.once)
    # The API counts its calls itself (intake.api.views) and answers a breach in JSON.
    counts_itself(app, api)
    app.after_request(set_key_cookie)
    register_security_headers(app)


def _init_channels(app: Flask) -> None:
    """Channels plug in through the ``intake.channels`` entry point group.

    ``intake`` must not import ``channels`` (the import contract points the other way), so
    each channel package declares an ``init_app(app)`` in pyproject.toml and is found here.
    """
    for entry in sorted(entry_points(group="intake.channels"), key=lambda e: e.name):
        entry.load()(app)


def _init_sessions(app: Flask, settings: Settings) -> None:
    """Server-side sessions: Redis when configured, else files in the instance folder.

    A session holds no plaintext: monitors' unlocked keys are stored there only encrypted
    under a key that lives in their cookie (DESIGN 4.2).
    """
    # Not permanent: the cookie ends with the browser session (a shared phone keeps none).
    # Storage is written only when the session changes (not on every request: a worker's
    # page views must not each cost a write).
    config: dict[str, Any] = {"SESSION_PERMANENT": False, "SESSION_USE_SIGNER": False,
                              "SESSION_REFRESH_EACH_REQUEST": False}
    if settings.redis_url:
        from redis import Redis

        config.update(
            SESSION_TYPE="redis",
            SESSION_REDIS=Redis.from_url(settings.redis_url),
            SESSION_KEY_PREFIX="intake:session:",
        )
    else:
        from cachelib.file import FileSystemCache

        sessions = settings.instance_path / "sessions"
        sessions.mkdir(mode=0o700, exist_ok=True)
        config.update(
            SESSION_TYPE="cachelib",
            SESSION_CACHELIB=FileSystemCache(
                str(sessions), threshold=10_000, mode=0o600
            ),
        )
    app.config.update(config)
    ServerSideSession(app)
    app.session_interface = SessionsExceptUnder(app.session_interface)


def _init_limiter(app: Flask, settings: Settings) -> PageLimiter:
    """Flask-Limiter keyed by a keyed, daily-rotating tag of the client address, never the IP."""

    limiter = PageLimiter(
        key_func=client_tag,
        default_limits=[settings.page_limits],  # every route, each its own budget per client
        storage_uri=settings.redis_url or "memory://",
        storage_options={"socket_connect_timeout": 2} if settings.redis_url else {},
        key_prefix="intake:limit",
        headers_enabled=False,
        swallow_errors=False,
        enabled=settings.rate_limits,
    )
    limiter.init_app(app)
    return limiter
