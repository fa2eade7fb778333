"""Argon2id from several threads at once (gunicorn's gthread workers check two receipts or
two sign-ins at the same moment): every derivation finishes, with the right result.

Without one-at-a-time derivation, two threads each wait for OpenSSL pool threads that the
other holds and hang for good (found by tests/test_crash.py). The threads run in a child
process so that such a hang fails this test at its deadline (a liveness bound far above
the work's cost, not a timing of it) instead of freezing the test run.
"""

from __future__ import annotations

import subprocess
import sys

HANG = 120.0  # seconds: the 12 production derivations take about 2 s on this machine

CHILD = """
import threading
from crypto.hierarchy import PRODUCTION, argon2id

salt = b"s" * 16
expected = argon2id(b"receipt", salt=salt, profile=PRODUCTION)
results = []

def derive():
    for _ in range(3):
        results.append(argon2id(b"receipt", salt=salt, profile=PRODUCTION))

threads = [threading.Thread(target=derive) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(results), all(key == expected for key in results))
"""


def test_concurrent_derivations_all_finish_with_the_right_result() -> None:
    try:
        done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                              timeout=HANG, check=True)
    except subprocess.TimeoutExpired:
        raise AssertionError("Argon2id hung when several threads derived at once") from None
    assert done.stdout.split() == ["12", "True"]
