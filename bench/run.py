"""Run the benchmarks (crypto, web, SMS, triage) and write BENCHMARKS.md.

    python3 bench/run.py                 # everything, full size (about 10 minutes)
    python3 bench/run.py --quick         # smaller runs, to check that they work
    python3 bench/run.py --only crypto,web --output /tmp/BENCHMARKS.md

Each benchmark runs in its own process and prints its tables and its headline figures
(``bench/summary.py``). This program gathers the headlines into one table (figure, target,
the baseline measured in the same run, ratio), adds the machine it ran on and each
benchmark's own tables, and appends the notes kept by hand in ``bench/NOTES.md``. Not a
test: the numbers depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from bench.summary import Headline, parse  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Bench:
    name: str
    title: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


BENCHES = (
    Bench("crypto", "Crypto: sealing, opening, Argon2id", "crypto.py", (), ()),
    Bench("web", "Worker web pages", "web.py", ("--runs", "200"), ("--runs", "30")),
    Bench("sms", "SMS webhook under gunicorn", "sms.py", ("--seconds", "10"),
          ("--seconds", "3")),
    Bench("triage", "Triage queue and cases on 1,000,000 reports", "triage.py", (),
          ("--reports", "20000", "--desks", "20", "--facilities", "200", "--case-runs", "3")),
)


@dataclass
class Outcome:
    bench: Bench
    seconds: float
    tables: str
    headlines: list[Headline]
    failed: str | None = None


def run_bench(bench: Bench, *, quick: bool, extra: list[str]) -> Outcome:
    args = [sys.executable, str(ROOT / "bench" / bench.script),
            *(bench.quick if quick else bench.full), *extra]
    print(f"== {bench.name}: {' '.join(args[1:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    headlines, lines = [], []
    for line in done.stdout.splitlines():
        headline = parse(line)
        if headline is None:
            lines.append(line)
        else:
            headlines.append(headline)
    failed = None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        failed = f"exit {done.returncode}: {tail[0]}"
        print(done.stderr[-4000:], file=sys.stderr)
    print(f"   {seconds:.0f} s, {len(headlines)} headline figures", file=sys.stderr, flush=True)
    return Outcome(bench, seconds, "\n".join(lines).strip(), headlines, failed)


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "CPU cores": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "memory": memory,
        "OS": _os_name(),
        "Python": platform.python_version(),
        "PostgreSQL": _postgres_version(),
        "Redis": _redis_version(),
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(ADMIN_URL, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"
    except Exception as error:  # reported in the table, not raised
        return f"unreachable ({type(error).__name__})"


def _redis_version() -> str:
    try:
        from redis import Redis

        return str(Redis.from_url(REDIS_URL, socket_connect_timeout=3).info()["redis_version"])
    except Exception as error:  # reported in the table, not raised
        return f"unreachable ({type(error).__name__})"


def _number(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value:,.0f} B"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}" if value >= 10 else f"{value:.2f} {unit}"


def summary_table(outcomes: list[Outcome]) -> list[str]:
    rows = ["| benchmark | figure | value | target | baseline in the same run | ratio | met |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for outcome in outcomes:
        if outcome.failed:
            rows.append(f"| {outcome.bench.name} | did not finish: {outcome.failed} "
                        "| | | | | no |")
        for h in outcome.headlines:
            baseline = (f"{_number(h.baseline, h.unit)} ({h.baseline_label})"
                        if h.baseline is not None else "")
            ratio = h.ratio
            ratio_text = "" if ratio is None else (
                f"{ratio:.2f}x" if h.ratio_of == "value/baseline" else f"{1 / ratio:.0%}")
            rows.append(f"| {h.bench} | {h.figure} | {_number(h.value, h.unit)} | {h.target} "
                        f"| {baseline} | {ratio_text} | {'yes' if h.met else '**no**'} |")
    return rows


def render(outcomes: list[Outcome], facts: dict[str, str], *, quick: bool, started: str) -> str:
    met = sum(h.met for o in outcomes for h in o.headlines)
    total = sum(len(o.headlines) for o in outcomes)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python3 bench/run.py{' --quick' if quick else ''}` on {started} "
        f"(UTC). {met} of {total} headline figures meet their targets. Each figure stands "
        "next to a baseline measured in the same run on the same machine (a bare HPKE call, "
        "a bare Flask endpoint, one INSERT + COMMIT, a SELECT 1), so the ratio is steadier "
        "than the time: the machine may be shared, and absolute times wander between runs.",
        "",
    ]
    if quick:
        lines += ["**Quick run**: smaller samples and data sets than the targets are stated "
                  "for; use the full run for the record.", ""]
    lines += ["## Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in facts.items()]
    lines += ["", "## Summary", "", *summary_table(outcomes), ""]
    for outcome in outcomes:
        lines += [f"## {outcome.bench.title} (`bench/{outcome.bench.script}`, "
                  f"{outcome.seconds:.0f} s)", "", outcome.tables or "(no output)", ""]
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument("--only", default="", help="comma-separated: crypto,web,sms,triage")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true",
                        help="triage: reuse its database if a previous run loaded it")
    args = parser.parse_args()
    chosen = {name for name in args.only.split(",") if name}
    unknown = chosen - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    facts = machine()
    outcomes = [run_bench(bench, quick=args.quick,
                          extra=["--keep"] if args.keep and bench.name == "triage" else [])
                for bench in BENCHES if not chosen or bench.name in chosen]
    facts["load average (1 min) at end"] = f"{os.getloadavg()[0]:.2f}"
    args.output.write_text(render(outcomes, facts, quick=args.quick, started=started),
                           encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    if any(o.failed for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
