"""a held text remembers when WhatsApp refused it, so that one whose notice goes unanswered
is given up after the conversation's wait (14 days) instead of staying held for good; texts
held before this revision count from the day they were queued.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))
    # SQLAlchemy stores the enum's names, not its values.
    op.execute("UPDATE outbound_messages SET held_at = created_at WHERE status = 'HELD'")


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('held_at')
