"""monitor desk: sign-in state, per-desk triage, API tokens, audit detail

Triage state moves from ``reports`` (one state for all desks) to ``report_desks`` (each desk
triages its own copy); the old columns were never written by any released code.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('desk_key_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_on', sa.Date(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_tokens_account_id_accounts')),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_api_tokens_desk_id_desks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_tokens_desk_id'), ['desk_id'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        # Accounts made before this revision were handed their TOTP secret at creation.
        batch_op.add_column(sa.Column('totp_enrolled', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False,
                                      server_default='0'))

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_prev_hash'), ['prev_hash'])

    with op.batch_alter_table('report_desks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('facility_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.Enum('WEB', 'SMS', 'WHATSAPP', 'PHONE', 'IN_PERSON', name='channel', native_enum=False, length=16), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('status', sa.Enum('NEW', 'IN_TRIAGE', 'IN_CASE', 'NO_ACTION', name='triagestatus', native_enum=False, length=16), nullable=False, server_default='NEW'))
        batch_op.add_column(sa.Column('queue_rank', sa.SmallInteger(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('category', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('severity', sa.Enum('IMMEDIATE_DANGER', 'SERIOUS', 'OTHER', name='severity', native_enum=False, length=24), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.String(length=400), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('no_action_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('opened_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_report_desks_facility_id_facilities'), 'facilities', ['facility_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_report_desks_assignee_id_accounts'), 'accounts', ['assignee_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_report_desks_duplicate_of_id_reports'), 'reports', ['duplicate_of_id'], ['id'], ondelete='SET NULL')

    for column in ('received_on', 'facility_id', 'channel', 'language'):
        op.execute(
            f"UPDATE report_desks SET {column} = (SELECT reports.{column} FROM reports "
            "WHERE reports.id = report_desks.report_id)"
        )
    with op.batch_alter_table('report_desks', schema=None) as batch_op:
        batch_op.alter_column('received_on', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('channel', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('language', existing_type=sa.String(length=16), nullable=False)
        batch_op.create_index(
            'ix_report_desks_queue', ['desk_id', 'queue_rank', 'received_on', 'report_id'],
            unique=False,
            postgresql_include=['status', 'category', 'channel', 'language', 'facility_id'])
        batch_op.create_index(
            'ix_report_desks_facility',
            ['desk_id', 'facility_id', 'queue_rank', 'received_on', 'report_id'], unique=False)

    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_queue'))
        batch_op.drop_column('status')
        batch_op.drop_column('severity')



def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('severity', sa.VARCHAR(length=24), nullable=True))
        batch_op.add_column(sa.Column('status', sa.VARCHAR(length=16), nullable=False,
                                      server_default='NEW'))
        batch_op.create_index(batch_op.f('ix_reports_queue'), ['status', 'received_on'], unique=False)

    with op.batch_alter_table('report_desks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_report_desks_duplicate_of_id_reports'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_report_desks_assignee_id_accounts'), type_='foreignkey')
        batch_op.drop_index('ix_report_desks_queue')
        batch_op.drop_index('ix_report_desks_facility')
        batch_op.drop_constraint(batch_op.f('fk_report_desks_facility_id_facilities'), type_='foreignkey')
        batch_op.drop_column('language')
        batch_op.drop_column('channel')
        batch_op.drop_column('facility_id')
        batch_op.drop_column('opened_on')
        batch_op.drop_column('no_action_reason')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('tags')
        batch_op.drop_column('severity')
        batch_op.drop_column('category')
        batch_op.drop_column('queue_rank')
        batch_op.drop_column('status')
        batch_op.drop_column('received_on')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_prev_hash'), type_='unique')
        batch_op.drop_column('detail')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enrolled')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_desk_id'))
        batch_op.drop_index(batch_op.f('ix_api_tokens_account_id'))

    op.drop_table('api_tokens')
