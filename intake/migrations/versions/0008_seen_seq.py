"""each desk remembers how far it had read a report's thread when it last opened it, so the
queue can say which reports have words from the worker it has not seen

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('report_desks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen_seq', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report_desks', schema=None) as batch_op:
        batch_op.drop_column('seen_seq')
