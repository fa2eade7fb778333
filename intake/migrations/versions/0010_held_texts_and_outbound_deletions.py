"""a desk reply WhatsApp refused because its 24-hour window had closed is held, and the
approved notice sent to the worker instead is remembered (its Twilio sid; no content); the
texts we send are deleted at Twilio too, once Twilio lets us (``not_before``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nudge_sid', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_outbound_messages_nudge_sid', ['nudge_sid'], unique=True)
    with op.batch_alter_table('provider_deletions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outbound', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('provider_deletions', schema=None) as batch_op:
        batch_op.drop_column('not_before')
        batch_op.drop_column('outbound')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_nudge_sid')
        batch_op.drop_column('nudge_sid')
