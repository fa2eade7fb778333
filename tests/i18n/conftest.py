"""The worker-page fixtures of tests/web, shared with the language checks."""

from tests.web.conftest import worker, world

__all__ = ["worker", "world"]
