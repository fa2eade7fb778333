"""Benchmark of the crypto package against bare `cryptography` HPKE calls; prints a table.

    python bench/crypto.py

Not a test: numbers depend on the machine. Targets: sealing a report to two desks costs at
most 2x the two bare HPKE encryptions it needs; opening 1,000 reports takes < 0.3 s on one core.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This file is itself named crypto.py: put the repository root, not bench/, first on the path.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.summary import Headline, emit  # noqa: E402
from crypto import hierarchy, receipts  # noqa: E402
from crypto.envelope import open_sealed, seal  # noqa: E402
from crypto.keys import PrivateKey, SuiteId, suite_spec  # noqa: E402

REPORT = os.urandom(2048)
CONTEXT = b"report-body:bench"
INFO = b"wvi bench info"
REPEATS = 400
ARGON2_REPEATS = 9
OPEN_MANY = 1000

Row = tuple[str, str, str, str, str]


def _time_once(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _paired(
    measured: Callable[[], object], baseline: Callable[[], object], repeats: int
) -> tuple[list[float], list[float]]:
    """Alternate the two so that machine noise and drift fall on both alike."""
    measured(), baseline()  # warm up
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        samples[0].append(_time_once(measured))
        samples[1].append(_time_once(baseline))
    return samples


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def _p95(samples: list[float]) -> float:
    return sorted(samples)[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms"


def _suite_rows(suite: SuiteId) -> list[Row]:
    spec = suite_spec(suite)
    desks = [PrivateKey.generate(suite), PrivateKey.generate(suite)]
    publics = [d.public_key() for d in desks]
    hpke_publics = [p.hpke_key for p in publics]
    data_key = os.urandom(32)

    def bare_encrypt_two() -> None:
        for public in hpke_publics:
            spec.hpke.encrypt(data_key, public, info=INFO)

    wrap = spec.hpke.encrypt(data_key, hpke_publics[0], info=INFO)
    blob = seal(REPORT, publics, context=CONTEXT)

    seal_t, bare_seal_t = _paired(
        lambda: seal(REPORT, publics, context=CONTEXT), bare_encrypt_two, REPEATS
    )
    open_t, bare_open_t = _paired(
        lambda: open_sealed(blob, desks[0], context=CONTEXT),
        lambda: spec.hpke.decrypt(wrap, desks[0].hpke_key, info=INFO),
        REPEATS,
    )

    contexts = [b"report-body:%d" % i for i in range(OPEN_MANY)]
    blobs = [seal(REPORT, publics, context=c) for c in contexts]
    wraps = [spec.hpke.encrypt(data_key, hpke_publics[0], info=INFO) for _ in range(OPEN_MANY)]

    def open_many() -> None:
        for sealed, context in zip(blobs, contexts, strict=True):
            open_sealed(sealed, desks[0], context=context)

    def bare_decrypt_many() -> None:
        for wrapped in wraps:
            spec.hpke.decrypt(wrapped, desks[0].hpke_key, info=INFO)

    many_t, bare_many_t = _paired(open_many, bare_decrypt_many, 5)

    name = suite.name
    seal_m, bare_seal_m = _median(seal_t), _median(bare_seal_t)
    open_m, bare_open_m = _median(open_t), _median(bare_open_t)
    emit(Headline("crypto", f"{name}: seal a 2 KB report to 2 desks (median)", seal_m * 1e6,
                  "µs", "≤ 2.00x the bare HPKE calls", seal_m / bare_seal_m <= 2.0,
                  bare_seal_m * 1e6, "2 bare HPKE encryptions"))
    emit(Headline("crypto", f"{name}: open 1,000 reports, one core (median of 5)",
                  _median(many_t) * 1e3, "ms", "< 300 ms", _median(many_t) < 0.3,
                  _median(bare_many_t) * 1e3, "1,000 bare HPKE decryptions"))
    return [
        (f"{name}: seal 2 KB to 2 desks (median)", _us(seal_m), _us(bare_seal_m) + " (2 HPKE enc)",
         f"{seal_m / bare_seal_m:.2f}x", "≤ 2.00x"),
        (f"{name}: seal 2 KB to 2 desks (p95)", _us(_p95(seal_t)), _us(_p95(bare_seal_t)),
         f"{_p95(seal_t) / _p95(bare_seal_t):.2f}x", ""),
        (f"{name}: open by one desk (median)", _us(open_m), _us(bare_open_m) + " (1 HPKE dec)",
         f"{open_m / bare_open_m:.2f}x", ""),
        (f"{name}: open by one desk (p95)", _us(_p95(open_t)), _us(_p95(bare_open_t)),
         f"{_p95(open_t) / _p95(bare_open_t):.2f}x", ""),
        (f"{name}: open 1,000 reports (median of 5)", _ms(_median(many_t)),
         _ms(_median(bare_many_t)) + " (1,000 HPKE dec)",
         f"{_median(many_t) / _median(bare_many_t):.2f}x", "< 300 ms"),
    ]


def _argon2_rows() -> list[Row]:
    profile = hierarchy.PRODUCTION
    salt = receipts.new_install_salt()
    account = PrivateKey.generate()
    blob = hierarchy.wrap_account_key(account, "a password of some length", profile=profile)
    receipt = receipts.new_receipt()
    def bare() -> bytes:
        return hierarchy.argon2id(receipt.encode(), salt=salt, profile=profile)

    receipt_t, bare_r = _paired(
        lambda: receipts.derive_receipt_secrets(receipt, install_salt=salt, profile=profile),
        bare, ARGON2_REPEATS,
    )
    login_t, bare_l = _paired(
        lambda: hierarchy.unwrap_account_key(blob, "a password of some length"), bare,
        ARGON2_REPEATS,
    )
    params = f"t={profile.time_cost}, m={profile.memory_cost_kib // 1024} MiB, p={profile.lanes}"
    emit(Headline("crypto", "receipt check, production Argon2id (median)",
                  _median(receipt_t) * 1e3, "ms", "0.1–0.3 s",
                  0.1 <= _median(receipt_t) <= 0.3, _median(bare_r) * 1e3, "bare Argon2id"))
    return [
        (f"receipt check, Argon2id {params} (median)", _ms(_median(receipt_t)),
         _ms(_median(bare_r)) + " (bare Argon2id)",
         f"{_median(receipt_t) / _median(bare_r):.2f}x", "0.1–0.3 s"),
        ("receipt check (p95)", _ms(_p95(receipt_t)), _ms(_p95(bare_r)), "", ""),
        ("login: unwrap account key (median)", _ms(_median(login_t)),
         _ms(_median(bare_l)) + " (bare Argon2id)",
         f"{_median(login_t) / _median(bare_l):.2f}x", "0.1–0.3 s"),
        ("login: unwrap account key (p95)", _ms(_p95(login_t)), _ms(_p95(bare_l)), "", ""),
    ]


def main() -> None:
    rows: list[Row] = []
    for suite in SuiteId:
        rows += _suite_rows(suite)
    rows += _argon2_rows()
    header: Row = ("measure", "value", "baseline", "ratio", "target")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, report = 2,048 bytes, "
          f"{REPEATS} repeats (Argon2id: {ARGON2_REPEATS})\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
