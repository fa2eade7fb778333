"""The worker pages served over real HTTP on 127.0.0.1, and Debian's Chromium to drive them.

Playwright cannot download its own browser on this network, so the tests launch the system
Chromium that ``.ci/test-setup`` installs; when it is missing the tests fail, never skip.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Playwright
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


@dataclass(frozen=True)
class LiveServer:
    origin: str  # "http://127.0.0.1:<port>", no trailing slash

    def url(self, path: str) -> str:
        return self.origin + path


@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """Serve ``app`` on a free port of 127.0.0.1 until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def launch_chromium(playwright: Playwright) -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. "
            "Install it with .ci/test-setup (apt-get install chromium).",
            pytrace=False,
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
