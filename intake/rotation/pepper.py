"""Rotating the pepper (``INTAKE_PEPPER``): re-tag what can be re-tagged, keep STOP holding.

What the pepper keys, and what a rotation does to each:

- SMS conversations (``sms_conversations.sender_tag``): one waiting for a worker's verdict
  points at a report whose sealed number the courier opens, so it is moved to the new tag.
  Any other conversation (a report being written, by a sender whose number we never kept)
  cannot be re-tagged: it is deleted, and the worker's next text starts a new one (words
  already sent stay sealed with their report, as after an idle timeout).
- Opt-outs (``sms_opt_outs``): an opt-out whose number is still sealed somewhere (the job
  that forgets numbers after STOP had not run yet) is moved to the new tag, and the number
  is forgotten now. The others stay under the old tag; the old pepper is kept in
  ``INTAKE_PEPPER_PREVIOUS`` so that they still match (``intake.rotation.optouts``).
- MessageSid and web/desk nonce tags (``processed_inbound``): short-lived; left to expire.
  A webhook retried across the rotation is handled once more (stop the service first).
- Rate-limit tags (SMS sender, daily IP tag) in Redis: they simply start again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crypto.keys import PrivateKey
from crypto.pseudonyms import sender_tag
from intake.audit.service import record
from intake.errors import IntakeError
from intake.install import courier_public_key
from intake.messaging.models import OWED, Conversation, OptOut, OutboundMessage, OutboundStatus
from intake.reports.models import Report
from intake.reports.service import open_contact
from intake.rotation.batches import reports_with_numbers

BATCH = 500


class RotationRefused(IntakeError):
    """A rotation that would lose data or cannot run here (say which key is missing)."""


FOREIGN_COURIER = ("INTAKE_COURIER_KEY here is not the courier key this database uses: run "
                   "the rotation where `intake worker` runs, with its key")


@dataclass(frozen=True)
class PepperRotation:
    conversations_moved: int
    conversations_dropped: int
    opt_outs_moved: int
    opt_outs_kept: int
    numbers_forgotten: int


def rotate_pepper(session: Session, *, old: bytes, new: bytes, courier: PrivateKey | None,
                  batch: int = BATCH) -> PepperRotation:
    """Re-tag every row keyed by the pepper, in the caller's transaction (all or nothing:
    half the tags under each pepper would split conversations and opt-outs)."""
    if old == new:
        raise RotationRefused("the new pepper is the old one")
    numbers = session.scalar(select(Report.id).where(Report.contact_sealed.is_not(None))
                             .limit(1))
    if numbers is not None and courier is None:
        raise RotationRefused(
            "sealed numbers exist and INTAKE_COURIER_KEY is not set here: run the rotation "
            "where `intake worker` runs (it holds the courier key)")
    recorded = courier_public_key(session)
    if courier is not None and recorded is not None \
            and recorded.to_bytes() != courier.public_key().to_bytes():
        raise RotationRefused(FOREIGN_COURIER)
    moved, dropped = _move_conversations(session, old=old, new=new, courier=courier)
    opt_moved, forgotten = _sweep_numbers(session, old=old, new=new, courier=courier,
                                          batch=batch)
    kept = session.scalar(select(func.count()).select_from(OptOut)) or 0
    result = PepperRotation(moved, dropped, opt_moved, kept - opt_moved, forgotten)
    record(session, "secrets.pepper_rotated", actor_id=None, desk_id=None,
           detail=(f"conversations_moved={moved} dropped={dropped} opt_outs_moved={opt_moved} "
                   f"numbers_forgotten={forgotten}"))
    return result


def _number(report: Report, courier: PrivateKey) -> str:
    return open_contact(report, courier).number


def _move_conversations(session: Session, *, old: bytes, new: bytes,
                        courier: PrivateKey | None) -> tuple[int, int]:
    # Conversations are transient (idle ones expire): their keys fit in memory.
    rows = list(session.execute(select(Conversation.sender_tag, Conversation.report_id)).all())
    moved = dropped = 0
    for tag, report_id in rows:
        report = session.get(Report, report_id) if report_id is not None else None
        number = (_number(report, courier) if courier is not None and report is not None
                  and report.contact_sealed is not None else None)
        if number is not None and sender_tag(old, number) == tag:
            session.execute(update(Conversation).where(Conversation.sender_tag == tag)
                            .values(sender_tag=sender_tag(new, number),
                                    version=Conversation.version + 1))
            moved += 1
        else:
            session.execute(delete(Conversation).where(Conversation.sender_tag == tag))
            dropped += 1
    session.expire_all()
    return moved, dropped


def _sweep_numbers(session: Session, *, old: bytes, new: bytes, courier: PrivateKey | None,
                   batch: int) -> tuple[int, int]:
    """Open every sealed number: one whose old tag said STOP is forgotten now, and its
    opt-out moves to the new tag."""
    if courier is None:
        return 0, 0
    moved_tags: set[str] = set()
    forgotten = 0
    for reports in reports_with_numbers(session, batch=batch):
        for report in reports:
            number = _number(report, courier)
            old_tag = sender_tag(old, number)
            if session.get(OptOut, old_tag) is None and old_tag not in moved_tags:
                continue
            _forget(session, report)
            forgotten += 1
            new_tag = sender_tag(new, number)
            if old_tag not in moved_tags:
                session.execute(delete(OptOut).where(OptOut.sender_tag == old_tag))
                moved_tags.add(old_tag)
            if session.get(OptOut, new_tag) is None:
                session.add(OptOut(sender_tag=new_tag))
    return len(moved_tags), forgotten


def _forget(session: Session, report: Report) -> None:
    """As the job after STOP does: the number goes, texts still owed are not sent."""
    report.contact_sealed = None
    report.contact_consent = False
    session.execute(update(OutboundMessage).where(
        OutboundMessage.report_id == report.id, OutboundMessage.status.in_(OWED))
        .values(status=OutboundStatus.OPTED_OUT))
