"""Opt-outs (STOP) that outlive a pepper rotation.

An opt-out is stored as the sender's tag only (STOP also forgets every sealed copy of the
number), so a rotation cannot re-tag it. Instead the retired peppers
(``INTAKE_PEPPER_PREVIOUS``) stay known for one purpose: when a number shows up again (an
inbound message, or a text we are about to send), its tags under the retired peppers are
looked up, and an opt-out found there is carried over to the current tag (the old row is
deleted). So whoever said STOP before a rotation is never texted after it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crypto.pseudonyms import sender_tag
from intake.messaging.models import OptOut


def carry_over(session: Session, number: str, *, pepper: bytes,
               retired: Sequence[bytes]) -> bool:
    """Move the number's opt-out from a retired pepper's tag to the current one.

    True if one was found. Costs nothing when no pepper was ever retired.
    """
    if not retired:
        return False
    tag = sender_tag(pepper, number)
    old_tags = [old_tag for old_tag in (sender_tag(old, number) for old in retired)
                if old_tag != tag]  # a pepper listed as retired and current changes nothing
    found = list(session.scalars(select(OptOut.sender_tag).where(OptOut.sender_tag.in_(old_tags))))
    if not found:
        return False
    session.execute(delete(OptOut).where(OptOut.sender_tag.in_(found)))
    if session.get(OptOut, tag) is None:
        session.add(OptOut(sender_tag=tag))
    session.flush()
    return True


def opted_out(session: Session, number: str, *, pepper: bytes,
              retired: Sequence[bytes]) -> bool:
    """Has this number said STOP (under the current pepper or a retired one)?"""
    carry_over(session, number, pepper=pepper, retired=retired)
    return session.get(OptOut, sender_tag(pepper, number)) is not None
