"""The ``intake`` command run as a new user runs it: a child process with only the
environment a test gives it (none of this machine's INTAKE_ or TWILIO_ settings)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

INTAKE = [sys.executable, "-m", "intake.cli"]


def run_intake(args: list[str], environ: dict[str, str], *,
               stdin: io.BufferedReader | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    return subprocess.run([*INTAKE, *args], env={**base, **environ}, capture_output=True,
                          text=True, timeout=120, stdin=stdin)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str,
                          status: int | None = None) -> None:
    """The command failed (with ``status``, if given) and said why in one line holding
    every needle, without a traceback."""
    assert result.returncode != 0 if status is None else result.returncode == status
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
