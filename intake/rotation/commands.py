"""``intake secrets rotate pepper|courier|secret-key`` (ops/secrets-rotation.md)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from intake.cli_support import database, friendly_errors, load_settings
from intake.rotation import storage
from intake.settings import SECRET_BYTES

NEW_VALUE_HELP = ("Where to write the new value (created 0600; must not exist). Needed when "
                  "the secret comes from the environment; on the embedded default the "
                  "instance/ file is replaced instead.")


@click.group("secrets")
def secrets_group() -> None:
    """Rotate the install's secrets (ops/secrets-rotation.md).

    \b
    Stop the app and the workers first; start them again with the new value after.
    """


@secrets_group.group("rotate")
def rotate_group() -> None:
    """Make a new secret and re-tag or re-seal what depends on it."""


@rotate_group.command("pepper")
@click.option("--new-value-file", type=click.Path(path_type=Path), default=None,
              help=NEW_VALUE_HELP)
@friendly_errors
def rotate_pepper_command(new_value_file: Path | None) -> None:
    """New INTAKE_PEPPER: SMS conversations waiting for a verdict and opt-outs whose number
    is still sealed are re-tagged (needs INTAKE_COURIER_KEY: run it on the worker host);
    other conversations restart; every other opt-out keeps matching through the old
    pepper, which must stay in INTAKE_PEPPER_PREVIOUS (so STOP still holds). Idempotency
    and rate-limit tags simply start again."""
    from crypto.keys import PrivateKey
    from intake.rotation.pepper import rotate_pepper

    settings = load_settings()
    target = storage.target_for("INTAKE_PEPPER", env=os.environ,
                                instance=settings.instance_path, new_value_file=new_value_file)
    new = secrets.token_bytes(SECRET_BYTES)
    courier = PrivateKey.from_bytes(settings.courier_key) if settings.courier_key else None
    if target.live:
        storage.retire_pepper(settings.instance_path, settings.pepper)
    with _staged(target, new), database(settings, migrate_embedded=True) as db, \
            db.transaction() as session:
        result = rotate_pepper(session, old=settings.pepper, new=new, courier=courier)
    click.echo(f"conversations re-tagged: {result.conversations_moved}, "
               f"restarted: {result.conversations_dropped}")
    click.echo(f"opt-outs re-tagged: {result.opt_outs_moved}, kept under the old pepper: "
               f"{result.opt_outs_kept}; numbers forgotten after STOP: "
               f"{result.numbers_forgotten}")
    _next_steps(target, "INTAKE_PEPPER", extra=(
        "add the OLD value to INTAKE_PEPPER_PREVIOUS (comma-separated, newest first) and "
        "keep it there: it matches the opt-outs recorded before this rotation"))


@rotate_group.command("courier")
@click.option("--new-value-file", type=click.Path(path_type=Path), default=None,
              help=NEW_VALUE_HELP)
@friendly_errors
def rotate_courier_command(new_value_file: Path | None) -> None:
    """New INTAKE_COURIER_KEY: every sealed number is re-sealed to the new key and desk
    replies sealed to the courier are re-wrapped for it; the database records the new
    public key and refuses the old key from then on. Needs the old key: run it where
    `intake worker` runs. One transaction: all or nothing."""
    from crypto.keys import PrivateKey
    from intake.errors import ConfigError
    from intake.rotation.courier import rotate_courier

    settings = load_settings()
    if settings.courier_key is None:
        raise ConfigError("INTAKE_COURIER_KEY is not set here: run the rotation where "
                          "`intake worker` runs, with its key")
    target = storage.target_for("INTAKE_COURIER_KEY", env=os.environ,
                                instance=settings.instance_path, new_value_file=new_value_file)
    new = PrivateKey.generate()
    with _staged(target, new.to_bytes()), database(settings, migrate_embedded=True) as db, \
            db.transaction() as session:
        result = rotate_courier(session, old=PrivateKey.from_bytes(settings.courier_key),
                                new=new)
    click.echo(f"sealed numbers re-sealed: {result.numbers}; desk replies re-wrapped: "
               f"{result.messages}")
    _next_steps(target, "INTAKE_COURIER_KEY", extra=(
        "destroy every copy of the old key (it opens no stored number any more, but it "
        "would open old backups)"))


@rotate_group.command("secret-key")
@click.option("--new-value-file", type=click.Path(path_type=Path), default=None,
              help=NEW_VALUE_HELP)
@friendly_errors
def rotate_secret_key_command(new_value_file: Path | None) -> None:
    """New INTAKE_SECRET_KEY: TOTP secrets and buyers' webhook secrets are re-sealed (apps
    and endpoints keep working); every session is deleted, so everyone signs in again;
    forms opened before are refused once (CSRF)."""
    from crypto.errors import CryptoError
    from intake.errors import ConfigError
    from intake.rotation.secret_key import end_sessions, rotate_secret_key

    settings = load_settings()
    target = storage.target_for("INTAKE_SECRET_KEY", env=os.environ,
                                instance=settings.instance_path, new_value_file=new_value_file)
    new = secrets.token_bytes(SECRET_BYTES)
    try:
        with _staged(target, new), database(settings, migrate_embedded=True) as db, \
                db.transaction() as session:
            result = rotate_secret_key(session, old=settings.secret_key, new=new)
    except CryptoError:
        raise ConfigError("INTAKE_SECRET_KEY does not open the secrets sealed in the database: "
                          "it is not this install's current key; nothing was changed") from None
    ended = end_sessions(redis_url=settings.redis_url, instance=settings.instance_path)
    click.echo(f"TOTP secrets re-sealed: {result.accounts}; webhook secrets re-sealed: "
               f"{result.webhooks}; sessions ended: {ended}")
    _next_steps(target, "INTAKE_SECRET_KEY", extra=None)


@contextmanager
def _staged(target: storage.Target, value: bytes) -> Iterator[None]:
    """Stage the new value before the database work; put it in place only if that commits."""
    storage.stage(target, value)
    try:
        yield
    except BaseException:
        storage.abandon(target)
        raise
    storage.commit(target)


def _next_steps(target: storage.Target, name: str, *, extra: str | None) -> None:
    if target.live:
        click.echo(f"{name}: the new value replaced {target.path}. Start the service again.")
        return
    click.echo(f"{name}: the new value is in {target.path} (0600). Now:")
    click.echo(f"  1. set {name}_FILE={target.path} (or {name} to its contents) in the "
               "service's environment file, on every host that had the old value;")
    step = 2
    if extra:
        click.echo(f"  {step}. {extra};")
        step += 1
    click.echo(f"  {step}. start the app and the workers again.")
