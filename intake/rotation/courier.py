"""Rotating the courier key (``INTAKE_COURIER_KEY``): every blob sealed to it is opened with
the old key and sealed to the new one, and the install records the new public key.

- Sealed numbers (``reports.contact_sealed``, sealed to the courier alone) are sealed afresh
  to the new key (a new data key, so the old key opens nothing in a later copy).
- Desk replies (``report_messages`` by the desk, sealed to the desks, the worker and, when
  the worker said yes to texts, the courier) get an entry for the new key and lose the old
  key's entry; the body and the other recipients stay byte for byte.
- ``install_state.courier_public_key`` becomes the new public key, so a process still
  holding the old private key is refused at start (``intake.install.ensure_install``).

One transaction, all or nothing: a half-done rotation would leave blobs only one of two keys
opens while the install names just one of them. The rows are read in keyset batches and
let go after each, so memory stays bounded; the database holds the pending changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.envelope import add_recipient, open_sealed, recipients, remove_recipient, seal
from crypto.keys import PrivateKey
from intake.accounts.models import InstallState
from intake.audit.service import record
from intake.install import COURIER_PUBLIC_KEY, courier_public_key
from intake.reports.models import Author, ReportMessage
from intake.reports.service import contact_context, message_context
from intake.rotation.batches import reports_with_numbers
from intake.rotation.pepper import FOREIGN_COURIER, RotationRefused

BATCH = 200


@dataclass(frozen=True)
class CourierRotation:
    numbers: int
    messages: int


def rotate_courier(session: Session, *, old: PrivateKey, new: PrivateKey,
                   batch: int = BATCH) -> CourierRotation:
    """Re-seal everything sealed to ``old`` for ``new`` (in the caller's transaction)."""
    recorded = courier_public_key(session)
    if recorded is None or recorded.to_bytes() != old.public_key().to_bytes():
        raise RotationRefused(FOREIGN_COURIER)
    if new.public_key().to_bytes() == recorded.to_bytes():
        raise RotationRefused("the new courier key is the old one")
    numbers = _reseal_numbers(session, old=old, new=new, batch=batch)
    messages = _rewrap_replies(session, old=old, new=new, batch=batch)
    session.get_one(InstallState, COURIER_PUBLIC_KEY).value = new.public_key().to_bytes()
    record(session, "secrets.courier_rotated", actor_id=None, desk_id=None,
           detail=f"numbers={numbers} messages={messages}")
    session.flush()
    return CourierRotation(numbers=numbers, messages=messages)


def _reseal_numbers(session: Session, *, old: PrivateKey, new: PrivateKey, batch: int) -> int:
    done = 0
    for reports in reports_with_numbers(session, batch=batch):
        for report in reports:
            context = contact_context(report.id)
            number = open_sealed(report.contact_sealed or b"", old, context=context)
            report.contact_sealed = seal(number, [new.public_key()], context=context)
            done += 1
    return done


def _rewrap_replies(session: Session, *, old: PrivateKey, new: PrivateKey, batch: int) -> int:
    done = 0
    last = uuid.UUID(int=0)
    while True:
        messages = list(session.scalars(
            select(ReportMessage).where(ReportMessage.author == Author.DESK,
                                        ReportMessage.id > last)
            .order_by(ReportMessage.id).limit(batch)))
        if not messages:
            return done
        last = messages[-1].id
        for message in messages:
            if old.key_id not in recipients(message.body_sealed):
                continue
            context = message_context(message.report_id, message.id)
            widened = add_recipient(message.body_sealed, old, new.public_key(), context=context)
            message.body_sealed = remove_recipient(widened, old.key_id)
            done += 1
        session.flush()
        session.expunge_all()
