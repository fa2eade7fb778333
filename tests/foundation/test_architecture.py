"""The layout holds: channels -> intake -> crypto, and crypto imports nothing of ours."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def test_import_contract_holds() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
         "lint_imports_command()"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("package", ["intake", "channels", "crypto"])
def test_every_module_says_what_it_owns(package: str) -> None:
    root = importlib.import_module(package)
    missing = [package] if not (root.__doc__ or "").strip() else []
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if info.name.startswith("intake.migrations."):
            continue
        module = importlib.import_module(info.name)
        if not (module.__doc__ or "").strip():
            missing.append(info.name)
    assert missing == []
