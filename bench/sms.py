"""Benchmark of the SMS webhook under gunicorn (2 workers) on PostgreSQL and Redis.

    python bench/sms.py [--seconds 10] [--rounds 5]

Drives correctly signed Twilio webhooks, each a first message from a new sender, at a
steady 100 requests/s (from this process: threads, keep-alive connections, an open-loop
schedule) and then at saturation, and does the same against baselines served the same way
in the same run: a bare Flask endpoint answering fixed TwiML, one doing one INSERT + COMMIT
in PostgreSQL, and the least a correct webhook must do on this stack
(``bench/baseline_app.py``). One more row, outside the targets: the status callback
Twilio sends about each reply the app answers with (it queues the reply's deletion at
Twilio). All five servers run at once; saturation is measured in
rounds, each driving every server in turn, and the median round counts (the machine is
shared and its speed drifts).

Saturation is driven by ``wrk`` (Debian package ``wrk``) with requests signed beforehand,
each used once: the load generator then costs the 2 cores little (about 40 µs a request),
as Twilio costs the server nothing. The requests are synthetic (random senders) and lie in
the run's private temporary folder, removed with it. Without ``wrk`` (or with
``--python-driver``) this process drives saturation too; it spends 400–500 µs of CPU a
request signing and sending, taken from the servers, which compresses the differences
between them (the app looked about 3 points nearer the INSERT baseline that way;
bench/NOTES.md). Not a test: prints a table.
Targets (issue 5): p99 < 50 ms at 100 requests/s; saturation throughput >= 50% of the
INSERT baseline's.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from sqlalchemy import create_engine, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.summary import Headline, emit  # noqa: E402

PUBLIC_URL = "https://bench.intake.test"
TO = "+60326000100"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/12"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def gunicorn(target: str, port: int, environ: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [shutil.which("gunicorn") or "gunicorn", "-w", "2", "--threads", "4",
               "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", target]
    return subprocess.Popen(command, env=environ, cwd=ROOT)


Saturation = tuple[float, float, float]  # requests/s, p50 and p99 latency in seconds


class Driver:
    """Sends signed webhooks; each request is a first message from a new sender."""

    def __init__(self, port: int, path: str, token: str) -> None:
        self.port, self.path = port, path
        self.validator = RequestValidator(token)
        self.callback = path.startswith("/twilio/sms/status")
        self.sign_url = PUBLIC_URL + (path if self.callback else "/twilio/sms")

    def body(self) -> tuple[bytes, dict[str, str]]:
        worker = f"+6012{secrets.randbelow(10**7):07d}"
        sid = "SM" + secrets.token_hex(16)
        if self.callback:  # Twilio's callback about the reply it sent (a new one each time)
            params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "sent",
                      "SmsStatus": "sent", "AccountSid": "AC" + "0" * 32, "From": TO,
                      "To": worker, "ApiVersion": "2010-04-01"}
        else:
            params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": worker,
                      "To": TO, "Body": "hello", "NumMedia": "0"}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(self.sign_url, params),
                   "Content-Type": "application/x-www-form-urlencoded"}
        return urllib.parse.urlencode(params).encode(), headers

    def one(self, connection: http.client.HTTPConnection) -> float:
        data, headers = self.body()
        started = time.perf_counter()
        connection.request("POST", self.path, body=data, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status not in (200, 204):
            raise RuntimeError(f"{self.path} answered {response.status}")
        return elapsed

    def steady(self, rate: float, seconds: float, threads: int = 8) -> list[float]:
        """Open loop: requests start on a fixed schedule, spread over worker threads."""
        latencies: list[float] = []
        lock = threading.Lock()
        start = time.perf_counter() + 0.2
        total = int(rate * seconds)

        def work(offset: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            for index in range(offset, total, threads):
                delay = start + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                elapsed = self.one(connection)
                with lock:
                    latencies.append(elapsed)

        run_threads(work, threads)
        return latencies

    def saturate(self, seconds: float, concurrency: int = 16) -> Saturation:
        """Closed loop: as fast as ``concurrency`` connections go; (rps, p50, p99 in s)."""
        latencies: list[float] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def work(_: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            while time.perf_counter() < deadline:
                elapsed = self.one(connection)
                with lock:
                    latencies.append(elapsed)

        started = time.perf_counter()
        run_threads(work, concurrency)
        rps = len(latencies) / (time.perf_counter() - started)
        return rps, statistics.median(latencies), pct(latencies, 0.99) / 1000


class Wrk:
    """Saturation through ``wrk``: requests signed beforehand, each sent once."""

    SCRIPT = """
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  lines = {}
  for line in io.lines(os.getenv("BENCH_REQUESTS") .. "." .. id) do
    local body, signature = line:match("([^\\t]*)\\t(.*)")
    lines[#lines + 1] = {body, signature}
  end
  sent = 0
end
function request()
  sent = sent + 1
  local item = lines[sent]
  if item == nil then error("out of pre-signed requests") end
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded",
                                  ["X-Twilio-Signature"] = item[2]}, item[1])
end
"""
    THREADS, CONNECTIONS = 2, 16
    MAX_RATE = 15_000  # requests/s that the first run's pre-signed requests cover
    HEADROOM = 3  # later runs: this many times the server's last rate

    def __init__(self, driver: Driver, workdir: Path) -> None:
        self.driver, self.workdir = driver, workdir
        self.script = workdir / f"saturate-{driver.port}.lua"
        self.script.write_text(self.SCRIPT)
        self.last_rate: float | None = None

    def saturate(self, seconds: float) -> Saturation:
        """(requests/s, p50, p99 in seconds) of one closed-loop run."""
        stem = self.workdir / "requests"
        rate = self.MAX_RATE if self.last_rate is None else self.HEADROOM * self.last_rate
        per_thread = int(min(rate, self.MAX_RATE) * seconds / self.THREADS) + 1
        for thread in range(self.THREADS):
            with open(f"{stem}.{thread}", "w") as out:
                for _ in range(per_thread):
                    body, headers = self.driver.body()
                    out.write(f"{body.decode()}\t{headers['X-Twilio-Signature']}\n")
        url = f"http://127.0.0.1:{self.driver.port}{self.driver.path}"
        done = subprocess.run(
            ["wrk", f"-t{self.THREADS}", f"-c{self.CONNECTIONS}", f"-d{seconds:.0f}s",
             "--latency", "-s", str(self.script), url],
            env={**os.environ, "BENCH_REQUESTS": str(stem)}, capture_output=True, text=True,
            check=False)
        report = done.stdout + done.stderr
        if done.returncode or "Non-2xx" in report or "error" in report.lower():
            raise RuntimeError(f"{self.driver.path} under wrk: {report}")
        sent = int(_field(report, r"(\d+) requests in"))
        if sent > per_thread * self.THREADS:
            raise RuntimeError(f"wrk sent {sent} requests, more than were signed")
        rps = float(_field(report, r"Requests/sec:\s+([\d.]+)"))
        p50, p99 = (_wrk_seconds(_field(report, rf"\s{q}%\s+([\d.]+\w+)")) for q in (50, 99))
        self.last_rate = rps
        return rps, p50, p99


def _field(report: str, pattern: str) -> str:
    found = re.search(pattern, report)
    if found is None:
        raise RuntimeError(f"wrk printed no {pattern!r}: {report}")
    return found.group(1)


def _wrk_seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def run_threads(work: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def prepare_database(name: str) -> str:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    from crypto.hierarchy import TEST_FAST
    from intake import schema
    from intake.accounts.models import SmsNumber
    from intake.accounts.service import create_desk
    from intake.db import Database

    database = Database(url)
    schema.upgrade(database.engine)
    with database.transaction() as session:
        create_desk(session, name="Bench desk", country="MY", profile=TEST_FAST,
                    is_fallback=True)
        session.add(SmsNumber(number=TO, country="MY", default_language="en"))
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_rows (id bigserial PRIMARY KEY, "
                                "payload text)"))
    database.dispose()
    return url


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


SERVERS = [("intake /twilio/sms", "intake.wsgi:app", "/twilio/sms"),
           ("baseline: bare Flask TwiML", "bench.baseline_app:app", "/bare"),
           ("baseline: INSERT + COMMIT", "bench.baseline_app:app", "/insert"),
           ("baseline: least correct webhook", "bench.baseline_app:app", "/floor"),
           # Each reply the app sends in TwiML brings back a callback or two (sent, delivered),
           # which queues its deletion at Twilio: the cost of that, next to the rest.
           ("intake: a reply's status callback", "intake.wsgi:app", "/twilio/sms/status?reply=1")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5,
                        help="saturation rounds; each round drives every server in turn")
    parser.add_argument("--python-driver", action="store_true",
                        help="drive saturation from this process even if wrk is installed")
    arguments = parser.parse_args()
    seconds, rounds = arguments.seconds, arguments.rounds
    use_wrk = shutil.which("wrk") is not None and not arguments.python_driver
    name = f"intake_bench_{os.getpid()}"
    url = prepare_database(name)
    token = secrets.token_hex(16)
    instance = tempfile.mkdtemp(prefix="intake-bench-")
    environ = {**os.environ, "INTAKE_DATABASE_URL": url, "INTAKE_REDIS_URL": REDIS_URL,
               "INTAKE_PUBLIC_URL": PUBLIC_URL, "TWILIO_AUTH_TOKEN": token,
               "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "INTAKE_INSTANCE": instance,
               "BENCH_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    processes: list[subprocess.Popen[bytes]] = []
    steady: list[list[float]] = []
    saturated: list[list[Saturation]] = [[] for _ in SERVERS]  # per server, one a round
    try:
        drivers = []
        for _label, target, path in SERVERS:
            port = free_port()
            processes.append(gunicorn(target, port, environ))
            wait_for(port, "/healthz" if target.startswith("intake") else "/nothing")
            drivers.append(Driver(port, path, token))
        for driver in drivers:
            driver.steady(50, 2)  # warm up both workers
            steady.append(driver.steady(100, seconds))
        saturators: list[Driver | Wrk] = (
            [Wrk(driver, Path(instance)) for driver in drivers] if use_wrk else list(drivers))
        # The machine's speed drifts (it is shared): each round drives every server in
        # turn, so a slow stretch is spread over all of them, and the median round counts.
        for _round in range(rounds):
            for index, saturator in enumerate(saturators):
                saturated[index].append(saturator.saturate(seconds))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        drop_database(name)
        Redis.from_url(REDIS_URL).flushdb()
        shutil.rmtree(instance, ignore_errors=True)

    driven = (f"saturation driven by wrk ({Wrk.THREADS} threads, {Wrk.CONNECTIONS} "
              "connections, requests signed beforehand)" if use_wrk
              else "saturation driven from this process (16 threads)")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, gunicorn -w 2 --threads 4 "
          f"(gthread), PostgreSQL + Redis on 127.0.0.1, 100 req/s driven from this process, "
          f"{driven}, {seconds:.0f} s per phase, {rounds} saturation rounds\n")
    print("| server | 100 req/s: p50 | p99 | saturation req/s (median round) | "
          "saturation p50 | p99 |")
    print("| --- | --- | --- | --- | --- | --- |")
    medians = []
    for (label, _target, _path), latencies, runs in zip(SERVERS, steady, saturated,
                                                        strict=True):
        rps, p50, p99 = sorted(runs)[len(runs) // 2]
        medians.append(rps)
        print(f"| {label} | {statistics.median(latencies) * 1000:.1f} ms | "
              f"{pct(latencies, 0.99):.1f} ms | {rps:.0f} | {p50 * 1000:.1f} ms | "
              f"{p99 * 1000:.1f} ms |")
    print("\nSaturation, each round (req/s):\n")
    print("| server | " + " | ".join(f"round {i + 1}" for i in range(rounds)) + " |")
    print("| --- |" + " --- |" * rounds)
    for (label, _target, _path), runs in zip(SERVERS, saturated, strict=True):
        print(f"| {label} | " + " | ".join(f"{run[0]:.0f}" for run in runs) + " |")
    ratios = [app[0] / insert[0] for app, insert in zip(saturated[0], saturated[2],
                                                        strict=True)]
    print("\nintake / INSERT baseline in each round: "
          + ", ".join(f"{ratio:.0%}" for ratio in ratios))
    intake_rps, insert_rps, floor_rps = medians[0], medians[2], medians[3]
    p99 = pct(steady[0], 0.99)
    emit(Headline("sms", "SMS webhook p99 at a steady 100 requests/s", p99, "ms", "< 50 ms",
                  p99 < 50, pct(steady[2], 0.99), "INSERT + COMMIT endpoint (p99)"))
    emit(Headline("sms", "SMS webhook saturation throughput", intake_rps,
                  "req/s", "≥ 50% of the INSERT baseline's", intake_rps >= 0.5 * insert_rps,
                  insert_rps, "INSERT + COMMIT endpoint", ratio_of="baseline/value"))
    print(f"\nintake saturation / INSERT baseline = {intake_rps / insert_rps:.0%} "
          f"(target >= 50%); intake p99 at 100 req/s = {p99:.1f} ms (target < 50 ms)")
    print(f"least correct webhook / INSERT baseline = {floor_rps / insert_rps:.0%}; "
          f"intake / least correct webhook = {intake_rps / floor_rps:.0%}; "
          f"a reply's status callback / INSERT baseline = {medians[4] / insert_rps:.0%}")


if __name__ == "__main__":
    main()
