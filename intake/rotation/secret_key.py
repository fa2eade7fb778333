"""Rotating the app secret (``INTAKE_SECRET_KEY``).

What derives from it, and what a rotation does to each:

- TOTP secrets (``accounts.totp_secret_sealed``, under an HKDF subkey): re-sealed, so
  everyone's authenticator app keeps working.
- Buyers' webhook signing secrets (``buyer_webhooks.secret_sealed``, another subkey):
  re-sealed, so buyers' endpoints keep verifying our signatures.
- Flask's signing of CSRF tokens: a form opened before the rotation is refused once.
- Sessions are server-side and their ids are not signed, so a new key alone would not end
  them: the rotation deletes every stored session (Redis ``intake:session:*``, or the
  embedded default's ``instance/sessions``). Everyone signs in again; monitors unlock
  their desks again with their password.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.pseudonyms import open_with_key, seal_with_key
from crypto.subkeys import derive_subkey
from intake.accounts.models import Account
from intake.accounts.service import open_totp_secret, seal_totp_secret
from intake.alerts.models import BuyerWebhook
from intake.alerts.service import WEBHOOK_PURPOSE, webhook_context
from intake.audit.service import record
from intake.rotation.pepper import RotationRefused

BATCH = 500
SESSION_PREFIX = "intake:session:"


@dataclass(frozen=True)
class SecretKeyRotation:
    accounts: int
    webhooks: int


def rotate_secret_key(session: Session, *, old: bytes, new: bytes,
                      batch: int = BATCH) -> SecretKeyRotation:
    """Re-seal what is sealed under subkeys of the secret (caller's transaction)."""
    if old == new:
        raise RotationRefused("the new secret key is the old one")
    accounts = 0
    last = 0
    while True:
        rows = list(session.scalars(select(Account).where(Account.id > last)
                                    .order_by(Account.id).limit(batch)))
        if not rows:
            break
        last = rows[-1].id
        for account in rows:
            totp = open_totp_secret(account, secret_key=old)
            account.totp_secret_sealed = seal_totp_secret(totp, secret_key=new,
                                                          email=account.email)
            accounts += 1
        session.flush()
        session.expunge_all()
    webhooks = 0
    for hook in session.scalars(select(BuyerWebhook).order_by(BuyerWebhook.id)):
        raw = open_with_key(derive_subkey(old, purpose=WEBHOOK_PURPOSE), hook.secret_sealed,
                            context=webhook_context(hook.id))
        hook.secret_sealed = seal_with_key(derive_subkey(new, purpose=WEBHOOK_PURPOSE), raw,
                                           context=webhook_context(hook.id))
        webhooks += 1
    record(session, "secrets.secret_key_rotated", actor_id=None, desk_id=None,
           detail=f"accounts={accounts} webhooks={webhooks}")
    session.flush()
    return SecretKeyRotation(accounts=accounts, webhooks=webhooks)


def end_sessions(*, redis_url: str | None, instance: Path) -> int:
    """Delete every stored session (they are not signed: a new key alone ends none)."""
    if redis_url:
        from redis import Redis

        client = Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=SESSION_PREFIX + "*", count=500))
        for key in keys:
            client.delete(key)
        return len(keys)
    folder = instance / "sessions"
    if not folder.is_dir():
        return 0
    ended = 0
    for path in folder.iterdir():
        if path.is_file():
            path.unlink(missing_ok=True)
            ended += 1
    return ended
