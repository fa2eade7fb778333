"""buyers and alerts: webhooks, delivery attempts, buyers' thread and actions, batch hour

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('buyer_webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['buyer_orgs.id'], name=op.f('fk_buyer_webhooks_buyer_org_id_buyer_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_webhooks'))
    )
    with op.batch_alter_table('buyer_webhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buyer_webhooks_buyer_org_id'), ['buyer_org_id'], unique=False)

    op.create_table('case_thread_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_case_thread_messages_author_id_accounts')),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['buyer_orgs.id'], name=op.f('fk_case_thread_messages_buyer_org_id_buyer_orgs')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_thread_messages_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_thread_messages'))
    )
    with op.batch_alter_table('case_thread_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_thread_messages_case_id'), ['case_id'], unique=False)

    op.create_table('buyer_actions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('remedy_action_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.Enum('CONTRACT_CLAUSE', 'JOINT_LETTER', 'AUDIT_REQUEST', 'CORRECTIVE_ACTION_PLAN', 'SUSPENSION', 'OTHER', name='buyeractionkind', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_buyer_actions_author_id_accounts')),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['buyer_orgs.id'], name=op.f('fk_buyer_actions_buyer_org_id_buyer_orgs')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_buyer_actions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['remedy_action_id'], ['remedy_actions.id'], name=op.f('fk_buyer_actions_remedy_action_id_remedy_actions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_actions'))
    )
    with op.batch_alter_table('buyer_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buyer_actions_buyer_org_id'), ['buyer_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buyer_actions_case_id'), ['case_id'], unique=False)

    op.create_table('delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.Enum('WEBHOOK', 'EMAIL', name='deliverychannel', native_enum=False, length=16), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_delivery_attempts_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['buyer_orgs.id'], name=op.f('fk_delivery_attempts_buyer_org_id_buyer_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_attempts_buyer_org_id'), ['buyer_org_id'], unique=False)

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reidentification_confirmed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_alerts_deliver_after'), ['deliver_after'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_alerts_acknowledged_by_id_accounts'), 'accounts', ['acknowledged_by_id'], ['id'])

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alerted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('remedied_on', sa.Date(), nullable=True))

    with op.batch_alter_table('desks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_batch_hour', sa.Integer(), nullable=False,
                                      server_default='6'))

    with op.batch_alter_table('remedy_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_on', sa.Date(), nullable=False,
                                      server_default=sa.func.current_date()))
        batch_op.add_column(sa.Column('done_on', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('remedy_actions', schema=None) as batch_op:
        batch_op.drop_column('done_on')
        batch_op.drop_column('created_on')

    with op.batch_alter_table('desks', schema=None) as batch_op:
        batch_op.drop_column('alert_batch_hour')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('remedied_on')
        batch_op.drop_column('alerted_on')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alerts_acknowledged_by_id_accounts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_alerts_deliver_after'))
        batch_op.drop_column('reidentification_confirmed')
        batch_op.drop_column('acknowledged_by_id')

    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_buyer_org_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_alert_id'))

    op.drop_table('delivery_attempts')
    with op.batch_alter_table('buyer_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buyer_actions_case_id'))
        batch_op.drop_index(batch_op.f('ix_buyer_actions_buyer_org_id'))

    op.drop_table('buyer_actions')
    with op.batch_alter_table('case_thread_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_thread_messages_case_id'))

    op.drop_table('case_thread_messages')
    with op.batch_alter_table('buyer_webhooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buyer_webhooks_buyer_org_id'))

    op.drop_table('buyer_webhooks')
