"""Benchmark of the worker web pages: bytes on the wire and server time per report.

    python bench/web.py [--runs 200]

Not a test. Budgets (issue 4): each page HTML + CSS at most 14 KB gzip-compressed; server
time of a full report submission on the embedded default p95 under 50 ms excluding
Argon2id. Measured in-process through the WSGI test client, next to a bare Flask endpoint
measured the same way in the same run (what Flask and the client cost alone).
"""

from __future__ import annotations

import argparse
import gzip
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from flask import Flask  # noqa: E402

from bench.summary import Headline, emit  # noqa: E402
from crypto.keys import PrivateKey  # noqa: E402
from intake import create_app, schema  # noqa: E402
from intake.db import Database  # noqa: E402
from intake.demo import load_demo  # noqa: E402
from intake.install import ensure_install  # noqa: E402
from intake.kdf import argon2_profile  # noqa: E402
from intake.settings import Settings  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_app(instance: Path, *, fast_kdf: bool) -> tuple[Flask, int]:
    settings = Settings(
        database_url=f"sqlite:///{instance / 'bench.sqlite3'}", instance_path=instance,
        secret_key=secrets.token_bytes(32), pepper=secrets.token_bytes(32),
        courier_key=PrivateKey.generate().to_bytes(), fast_kdf=fast_kdf, rate_limits=False,
    )
    database = Database(settings.database_url)
    if not schema.is_current(database.engine):
        schema.upgrade(database.engine)
    with database.transaction() as session:
        ensure_install(session, settings)
        if not (instance / "demo-logins.json").exists():
            load_demo(session, instance=instance, secret_key=settings.secret_key,
                      profile=argon2_profile(settings))
            (instance / "demo-logins.json").write_text("{}")
    database.dispose()
    return create_app(settings), 1


def submission(app: Flask, facility: int) -> tuple[float, float]:
    """One full report (5 steps and Send): total server time and the Send alone, seconds."""
    client = app.test_client()
    page = client.get("/en/report").get_data(as_text=True)
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    state = {"csrf_token": token, "facility": str(facility), "category": ["wages", "hours"],
             "details": "Our overtime was not paid for three months. " * 10,
             "contact": "web", "number": ""}
    total = 0.0
    review = ""
    for step in ("workplace", "what", "details", "contact"):
        started = time.perf_counter()
        review = client.post("/en/report", data={**state, "step": step, "go": "next"}).get_data(
            as_text=True)
        total += time.perf_counter() - started
    nonce = NONCE.search(review).group(1)  # type: ignore[union-attr]
    started = time.perf_counter()
    sent = client.post("/en/report", data={**state, "step": "review", "go": "send",
                                            "nonce": nonce})
    send = time.perf_counter() - started
    assert b"<span>" in sent.data, "no receipt shown"
    return total + send, send


def bare_flask(runs: int) -> list[float]:
    app = Flask("bare")

    @app.post("/bare")
    def bare() -> str:
        return "<!doctype html><p>ok</p>"

    client = app.test_client()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.post("/bare", data={"x": "y"})
        times.append(time.perf_counter() - started)
    return times


def page_sizes(app: Flask, facility: int) -> list[tuple[str, int, int]]:
    client = app.test_client()
    css = client.get("/static/web/worker.css").data
    js = client.get("/static/web/leave.js").data
    rows = []
    page = client.get("/en/report").get_data(as_text=True)
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    state = {"csrf_token": token, "facility": str(facility), "category": ["wages"],
             "details": "x" * 400, "contact": "web", "number": ""}
    bodies = {"start (/)": client.get("/").data, "home": client.get("/en/").data,
              "workplace": client.get("/en/report").data}
    for step, name in (("workplace", "what"), ("what", "details"), ("details", "contact"),
                       ("contact", "review")):
        bodies[name] = client.post("/en/report", data={**state, "step": step, "go": "next"}).data
    bodies["followup"] = client.get("/en/followup").data
    for name, html in bodies.items():
        html_gz = len(gzip.compress(html))
        rows.append((name, html_gz, html_gz + len(gzip.compress(css)) + len(gzip.compress(js))))
    return rows


def timed(runs: int, action: Callable[[], tuple[float, float]]) -> tuple[list[float], list[float]]:
    totals, sends = [], []
    for _ in range(runs):
        total, send = action()
        totals.append(total)
        sends.append(send)
    return totals, sends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        fast_app, facility = make_app(Path(folder), fast_kdf=True)
        for _ in range(10):
            submission(fast_app, facility)  # warm up
        totals, sends = timed(runs, lambda: submission(fast_app, facility))
        baseline = bare_flask(runs * 6)
        sizes = page_sizes(fast_app, facility)
    with tempfile.TemporaryDirectory() as folder:
        prod_app, facility = make_app(Path(folder), fast_kdf=False)
        prod_totals, prod_sends = timed(max(runs // 10, 10), lambda: submission(prod_app,
                                                                                facility))

    ms = 1000.0
    base50, base95 = statistics.median(baseline) * ms, percentile(baseline, 0.95) * ms
    full95 = percentile(totals, .95) * ms
    emit(Headline("web", "full web report, 5 requests, Argon2id excluded (p95)", full95, "ms",
                  "p95 < 50 ms", full95 < 50, 5 * base95, "5 bare Flask POSTs (p95)"))
    largest = max(total for _name, _html, total in sizes)
    emit(Headline("web", "largest worker page, HTML + CSS + JS gzipped", largest, "B",
                  "≤ 14,336 B", largest <= 14_336))
    print(f"python {sys.version.split()[0]}, embedded SQLite, {runs} submissions, WSGI "
          "test client in-process\n")
    print("| measure | p50 | p95 | baseline (bare Flask POST) p50 / p95 | target |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| full report, 5 requests, Argon2id excluded (test profile) | "
          f"{statistics.median(totals) * ms:.1f} ms | {percentile(totals, .95) * ms:.1f} ms | "
          f"5 × {base50:.2f} / {base95:.2f} ms | p95 < 50 ms |")
    print(f"| Send alone, Argon2id excluded | {statistics.median(sends) * ms:.1f} ms | "
          f"{percentile(sends, .95) * ms:.1f} ms | {base50:.2f} / {base95:.2f} ms | |")
    print(f"| Send alone, production Argon2id (t=3, 64 MiB) | "
          f"{statistics.median(prod_sends) * ms:.1f} ms | "
          f"{percentile(prod_sends, .95) * ms:.1f} ms | | |")
    print(f"| full report, production Argon2id | {statistics.median(prod_totals) * ms:.1f} ms | "
          f"{percentile(prod_totals, .95) * ms:.1f} ms | | |")
    print("\n| page (en) | HTML gzip | HTML + CSS + JS gzip | budget |")
    print("| --- | --- | --- | --- |")
    for name, html_gz, total in sizes:
        print(f"| {name} | {html_gz:,} B | {total:,} B | 14,336 B |")


if __name__ == "__main__":
    main()
