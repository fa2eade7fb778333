"""each kept reply says how long it is kept (an SMS reply 10 minutes, a web receipt an hour),
and the sweep finds the due ones by a partial index instead of reading every handled tag

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('processed_inbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keep_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_processed_inbound_kept', ['keep_until'], unique=False,
                              postgresql_where=sa.text('reply_sealed IS NOT NULL'),
                              sqlite_where=sa.text('reply_sealed IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('processed_inbound', schema=None) as batch_op:
        batch_op.drop_index('ix_processed_inbound_kept',
                            postgresql_where=sa.text('reply_sealed IS NOT NULL'),
                            sqlite_where=sa.text('reply_sealed IS NOT NULL'))
        batch_op.drop_column('keep_until')
