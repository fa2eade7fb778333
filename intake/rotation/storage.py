"""Where a rotated secret goes: the embedded default's instance file is replaced in place;
a secret that comes from the environment is written to a new file the operator names
(``--new-value-file``), never printed, so it lands in no terminal scrollback or log.

The new value is written *before* the database changes and put in place after they commit:
a failure in between leaves either the old state or a staged file, never a database
re-tagged under a secret nobody holds.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from intake.errors import ConfigError
from intake.settings import write_private_file

FILE_NAMES = {"INTAKE_SECRET_KEY": "secret_key", "INTAKE_PEPPER": "pepper",
              "INTAKE_COURIER_KEY": "courier_key"}
RETIRED_PEPPERS_FILE = "pepper_previous"


def encode(value: bytes) -> bytes:
    return base64.urlsafe_b64encode(value)


@dataclass(frozen=True)
class Target:
    """Where the new value of one secret is written, and whether that is its live place."""

    path: Path
    live: bool  # True: the instance file the install reads (embedded default)

    @property
    def staged(self) -> Path:
        return self.path.with_name(self.path.name + ".new") if self.live else self.path


def target_for(name: str, *, env: Mapping[str, str], instance: Path,
               new_value_file: Path | None) -> Target:
    """The instance file when the secret comes from there; else ``new_value_file``."""
    from_env = bool(env.get(name) or env.get(f"{name}_FILE"))
    if new_value_file is not None:
        return Target(new_value_file, live=False)
    if from_env:
        raise ConfigError(
            f"{name} comes from the environment here: give --new-value-file PATH; the new "
            "value is written there (0600) for you to put in the service's environment")
    return Target(instance / FILE_NAMES[name], live=True)


def stage(target: Target, value: bytes) -> None:
    """Write the new value where it waits until the database has committed."""
    if target.staged.exists():
        raise ConfigError(f"{target.staged} exists already; move it away first")
    try:
        write_private_file(target.staged, encode(value))
    except OSError as exc:  # a missing folder, no permission, a read-only file system
        raise ConfigError(f"cannot write {target.staged}: {exc.strerror or exc}") from None


def commit(target: Target) -> None:
    """Put a staged instance file in place (atomic rename); a named file is already final."""
    if target.live:
        os.replace(target.staged, target.path)


def abandon(target: Target) -> None:
    target.staged.unlink(missing_ok=True)


def retire_pepper(instance: Path, old: bytes) -> None:
    """Append the old pepper to the embedded default's list of retired peppers."""
    path = instance / RETIRED_PEPPERS_FILE
    if not path.exists():
        write_private_file(path, b"")
    with path.open("ab") as handle:
        handle.write(encode(old) + b"\n")
