"""retention: tallies that keep dashboard counts after reports are deleted; a worker's
verdict outlives the report it came from

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('channel', sa.Enum('WEB', 'SMS', 'WHATSAPP', 'PHONE', 'IN_PERSON', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('triage_days', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_report_tallies_desk_id_desks')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_report_tallies_facility_id_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_tallies'))
    )
    with op.batch_alter_table('report_tallies', schema=None) as batch_op:
        batch_op.create_index('ix_report_tallies_desk_month', ['desk_id', 'month'], unique=False)

    with op.batch_alter_table('worker_verdicts', schema=None) as batch_op:
        batch_op.alter_column('report_id', existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    # Verdicts whose report retention deleted cannot point at a report again.
    op.execute('DELETE FROM worker_verdicts WHERE report_id IS NULL')
    with op.batch_alter_table('worker_verdicts', schema=None) as batch_op:
        batch_op.alter_column('report_id', existing_type=sa.Uuid(), nullable=False)

    with op.batch_alter_table('report_tallies', schema=None) as batch_op:
        batch_op.drop_index('ix_report_tallies_desk_month')

    op.drop_table('report_tallies')
