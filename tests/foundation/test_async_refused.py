"""The app runs its views and hooks as they are (``IntakeFlask.ensure_sync``): an ``async
def`` one is refused when the app is built, never left to fail on a request."""

from __future__ import annotations

import pytest
from flask import Flask

from intake.app import _refuse_coroutines, _registered
from intake.errors import ConfigError


def test_the_app_registers_no_async_function(app: Flask) -> None:
    functions = list(_registered(app))
    assert len(functions) > 80  # views, hooks, error handlers: the walk really walks
    _refuse_coroutines(app)  # does not raise


@pytest.mark.parametrize("where", ["view", "before_request", "after_request", "errorhandler"])
def test_an_async_view_or_hook_is_refused(app: Flask, where: str) -> None:
    async def late(*_args: object) -> str:
        return "never"

    if where == "view":
        app.add_url_rule("/late", "late", late)
    elif where == "errorhandler":
        app.register_error_handler(418, late)
    else:
        getattr(app, where)(late)
    with pytest.raises(ConfigError, match="late is async"):
        _refuse_coroutines(app)
