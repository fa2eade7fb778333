"""Per-install values kept in the database: the receipt salt and the courier public key."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crypto.keys import PrivateKey, PublicKey
from crypto.receipts import new_install_salt
from intake.accounts.service import ensure_install_value, install_value
from intake.errors import ConfigError
from intake.settings import Settings

RECEIPT_SALT = "receipt_salt"
COURIER_PUBLIC_KEY = "courier_public_key"


def ensure_install(session: Session, settings: Settings) -> None:
    """Create the receipt salt once; record the courier public key if this process holds it."""
    ensure_install_value(session, RECEIPT_SALT, new_install_salt())
    if settings.courier_key is not None:
        public = PrivateKey.from_bytes(settings.courier_key).public_key().to_bytes()
        stored = ensure_install_value(session, COURIER_PUBLIC_KEY, public)
        if stored != public:
            raise ConfigError(
                "INTAKE_COURIER_KEY does not match the courier key this database was set up "
                "with; use the original key or run `intake secrets rotate courier`"
            )


def receipt_salt(session: Session) -> bytes:
    value = install_value(session, RECEIPT_SALT)
    if value is None:
        raise ConfigError("the database has no receipt salt yet; run `intake db upgrade`")
    return value


def courier_public_key(session: Session) -> PublicKey | None:
    value = install_value(session, COURIER_PUBLIC_KEY)
    return PublicKey.from_bytes(value) if value is not None else None
