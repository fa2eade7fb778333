"""Worker pages fit the first round trip: HTML + CSS (+ JS) at most 14 KB gzip-compressed."""

from __future__ import annotations

import gzip
import re

import pytest
from flask import Flask

from tests.web.conftest import Worker, World

BUDGET = 14 * 1024
RESOURCE = re.compile(r'<(?:link|script|img|iframe|source|audio|video)\b[^>]*?'
                      r'(?:href|src)="([^"]+)"')


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def pages(worker: Worker, world: World, lang: str) -> dict[str, bytes]:
    collected: dict[str, bytes] = {}
    collected["start"] = worker.get("/").data
    collected["home"] = worker.get(f"/{lang}/").data
    collected["workplace"] = worker.get(f"/{lang}/report").data
    state = {"facility": str(world.penang.id)}
    collected["what"] = worker.step("workplace", **state).data
    state["category"] = ["wages", "hours"]
    collected["details"] = worker.step("what", **state).data
    state["details"] = "Our pay was cut without reason. " * 20
    collected["contact"] = worker.step("details", **state).data
    state.update(contact="web", number="")
    collected["review"] = worker.step("contact", **state).data
    worker.lang = lang
    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    collected["followup"] = worker.get(f"/{lang}/followup").data
    collected["thread"] = worker.post(f"/{lang}/followup", {"receipt": receipt}).data
    return collected


@pytest.mark.parametrize("lang", ["en", "ar", "my"])
def test_every_worker_page_fits_fourteen_kilobytes(app: Flask, worker: Worker, world: World,
                                                   lang: str) -> None:
    assets = b"".join(
        worker.client.get(path).data
        for path in ("/static/web/worker.css", "/static/web/leave.js")
    )
    sizes = {name: gz(html) + gz(assets) for name, html in pages(worker, world, lang).items()}
    over = {name: size for name, size in sizes.items() if size > BUDGET}
    assert over == {}, sizes


def test_worker_pages_load_nothing_from_another_site(worker: Worker, world: World) -> None:
    for name, html in pages(worker, world, "en").items():
        for url in RESOURCE.findall(html.decode()):
            assert url.startswith("/") and not url.startswith("//"), (name, url)


def test_worker_pages_have_no_inline_script_or_style(worker: Worker, world: World) -> None:
    for name, html in pages(worker, world, "en").items():
        text = html.decode()
        assert "<style" not in text and " style=" not in text, name
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, name
        assert re.search(r"<[^>]*\son[a-z]+\s*=", text) is None, name  # no onclick= etc.


def test_worker_pages_are_never_cached_and_never_leak_a_referrer(worker: Worker,
                                                                 world: World) -> None:
    for path in ("/", "/en/", "/en/report", "/en/followup"):
        response = worker.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
