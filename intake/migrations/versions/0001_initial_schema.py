"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('buyer_orgs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('share_identity', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_orgs')),
    sa.UniqueConstraint('name', name=op.f('uq_buyer_orgs_name'))
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.create_table('desks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('recovery_wrap', sa.LargeBinary(), nullable=False),
    sa.Column('is_fallback', sa.Boolean(), nullable=False),
    sa.Column('k_threshold', sa.Integer(), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desks')),
    sa.UniqueConstraint('name', name=op.f('uq_desks_name'))
    )
    op.create_table('install_state',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_install_state'))
    )
    op.create_table('processed_inbound',
    sa.Column('sid_tag', sa.String(length=80), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply_sealed', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('sid_tag', name=op.f('pk_processed_inbound'))
    )
    op.create_table('provider_deletions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_deletions')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_provider_deletions_provider_sid'))
    )
    op.create_table('sms_numbers',
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('default_language', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_sms_numbers'))
    )
    op.create_table('sms_opt_outs',
    sa.Column('sender_tag', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('sender_tag', name=op.f('pk_sms_opt_outs'))
    )
    op.create_table('suppliers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('name', name=op.f('uq_suppliers_name'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('ADMIN', 'MONITOR', 'BUYER', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'ACTIVE', 'SUSPENDED', name='accountstatus', native_enum=False, length=16), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('wrapped_private_key', sa.LargeBinary(), nullable=False),
    sa.Column('totp_secret_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['buyer_orgs.id'], name=op.f('fk_accounts_buyer_org_id_buyer_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    op.create_table('facilities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=True),
    sa.Column('sector', sa.String(length=100), nullable=True),
    sa.Column('os_id', sa.String(length=32), nullable=True),
    sa.Column('poster_code', sa.String(length=16), nullable=False),
    sa.Column('worker_band', sa.String(length=16), nullable=True),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_facilities_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facilities')),
    sa.UniqueConstraint('os_id', name=op.f('uq_facilities_os_id')),
    sa.UniqueConstraint('poster_code', name=op.f('uq_facilities_poster_code'))
    )
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facilities_country'), ['country'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('desk_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_audit_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_audit_events_desk_id_desks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_desk_id'), ['desk_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.Enum('IMMEDIATE_DANGER', 'SERIOUS', 'OTHER', name='severity', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'ALERTED', 'REMEDIATION', 'CLOSED_REMEDIED', 'CLOSED_NOT_REMEDIED', 'CLOSED_OTHER', name='casestatus', native_enum=False, length=24), nullable=False),
    sa.Column('title_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('summary_draft_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('summary_approved', sa.Text(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('verdict_requested_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_cases_desk_id_desks')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_cases_facility_id_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_desk_id'), ['desk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_facility_id'), ['facility_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('product_category', sa.String(length=100), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['buyer_id'], ['buyer_orgs.id'], name=op.f('fk_contracts_buyer_id_buyer_orgs')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_contracts_facility_id_facilities')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_contracts_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('buyer_id', 'facility_id', 'starts_on', name=op.f('uq_contracts_buyer_id'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_facility_id'), ['facility_id'], unique=False)

    op.create_table('coverage',
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_coverage_desk_id_desks')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_coverage_facility_id_facilities')),
    sa.PrimaryKeyConstraint('desk_id', 'facility_id', name=op.f('pk_coverage'))
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'ACTIVE', 'REMOVED', name='membershipstatus', native_enum=False, length=16), nullable=False),
    sa.Column('wrapped_desk_key', sa.LargeBinary(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_memberships_account_id_accounts')),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_memberships_desk_id_desks')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['accounts.id'], name=op.f('fk_memberships_invited_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('desk_id', 'account_id', name=op.f('uq_memberships_desk_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_desk_id'), ['desk_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.Enum('WEB', 'SMS', 'WHATSAPP', 'PHONE', 'IN_PERSON', name='channel', native_enum=False, length=16), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('categories', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('NEW', 'TRIAGED', 'IN_CASE', 'CLOSED', name='reportstatus', native_enum=False, length=16), nullable=False),
    sa.Column('severity', sa.Enum('IMMEDIATE_DANGER', 'SERIOUS', 'OTHER', name='severity', native_enum=False, length=24), nullable=True),
    sa.Column('receipt_lookup', sa.LargeBinary(), nullable=True),
    sa.Column('worker_public_key', sa.LargeBinary(), nullable=True),
    sa.Column('body_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('contact_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('contact_consent', sa.Boolean(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entered_by_id'], ['accounts.id'], name=op.f('fk_reports_entered_by_id_accounts')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_reports_facility_id_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('receipt_lookup', name=op.f('uq_reports_receipt_lookup'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_queue', ['status', 'received_on'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deliver_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('added_by_hand', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['buyer_orgs.id'], name=op.f('fk_alerts_buyer_org_id_buyer_orgs')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_alerts_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('case_id', 'buyer_org_id', name=op.f('uq_alerts_case_id'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_buyer_org_id'), ['buyer_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_case_id'), ['case_id'], unique=False)

    op.create_table('case_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body_sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_case_notes_author_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_case_id'), ['case_id'], unique=False)

    op.create_table('case_reports',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_reports_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_reports_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'report_id', name=op.f('pk_case_reports'))
    )
    with op.batch_alter_table('case_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reports_report_id'), ['report_id'], unique=False)

    op.create_table('membership_approvals',
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_id'], ['accounts.id'], name=op.f('fk_membership_approvals_approver_id_accounts')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_membership_approvals_membership_id_memberships')),
    sa.PrimaryKeyConstraint('membership_id', 'approver_id', name=op.f('pk_membership_approvals'))
    )
    op.create_table('remedy_actions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner', sa.Enum('SUPPLIER', 'BUYER', 'DESK', name='actionowner', native_enum=False, length=16), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('PLANNED', 'IN_PROGRESS', 'DONE', 'NOT_DONE', name='actionstatus', native_enum=False, length=16), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['buyer_orgs.id'], name=op.f('fk_remedy_actions_buyer_org_id_buyer_orgs')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_remedy_actions_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remedy_actions'))
    )
    with op.batch_alter_table('remedy_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remedy_actions_case_id'), ['case_id'], unique=False)

    op.create_table('report_desks',
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_report_desks_desk_id_desks')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_desks_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'desk_id', name=op.f('pk_report_desks'))
    )
    with op.batch_alter_table('report_desks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_desks_desk_id'), ['desk_id'], unique=False)

    op.create_table('report_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('author', sa.Enum('WORKER', 'DESK', name='author', native_enum=False, length=16), nullable=False),
    sa.Column('author_account_id', sa.Integer(), nullable=True),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('body_sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['author_account_id'], ['accounts.id'], name=op.f('fk_report_messages_author_account_id_accounts')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_messages_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_messages'))
    )
    with op.batch_alter_table('report_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_messages_report_id'), ['report_id'], unique=False)

    op.create_table('sms_conversations',
    sa.Column('sender_tag', sa.String(length=80), nullable=False),
    sa.Column('inbound_number', sa.String(length=20), nullable=False),
    sa.Column('whatsapp', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('candidate_facility_id', sa.Integer(), nullable=True),
    sa.Column('report_id', sa.Uuid(), nullable=True),
    sa.Column('return_step', sa.String(length=32), nullable=True),
    sa.Column('invalid_answers', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_facility_id'], ['facilities.id'], name=op.f('fk_sms_conversations_candidate_facility_id_facilities')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_sms_conversations_facility_id_facilities')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_sms_conversations_report_id_reports'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('sender_tag', name=op.f('pk_sms_conversations'))
    )
    op.create_table('worker_verdicts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('verdict', sa.Enum('YES', 'PARTLY', 'NO', name='verdict', native_enum=False, length=8), nullable=False),
    sa.Column('comment_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_worker_verdicts_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_worker_verdicts_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_verdicts')),
    sa.UniqueConstraint('case_id', 'report_id', name=op.f('uq_worker_verdicts_case_id'))
    )
    with op.batch_alter_table('worker_verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_verdicts_case_id'), ['case_id'], unique=False)

    op.create_table('outbound_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('QUEUED', 'SENT', 'DELIVERED', 'FAILED', 'OPTED_OUT', name='outboundstatus', native_enum=False, length=16), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['report_messages.id'], name=op.f('fk_outbound_messages_message_id_report_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_outbound_messages_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_outbound_messages_provider_sid'))
    )
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_messages_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_messages_report_id'))

    op.drop_table('outbound_messages')
    with op.batch_alter_table('worker_verdicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_verdicts_case_id'))

    op.drop_table('worker_verdicts')
    op.drop_table('sms_conversations')
    with op.batch_alter_table('report_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_messages_report_id'))

    op.drop_table('report_messages')
    with op.batch_alter_table('report_desks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_desks_desk_id'))

    op.drop_table('report_desks')
    with op.batch_alter_table('remedy_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remedy_actions_case_id'))

    op.drop_table('remedy_actions')
    op.drop_table('membership_approvals')
    with op.batch_alter_table('case_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_reports_report_id'))

    op.drop_table('case_reports')
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_case_id'))

    op.drop_table('case_notes')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_case_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_buyer_org_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_queue')

    op.drop_table('reports')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_desk_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_account_id'))

    op.drop_table('memberships')
    op.drop_table('coverage')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_facility_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_buyer_id'))

    op.drop_table('contracts')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_facility_id'))
        batch_op.drop_index(batch_op.f('ix_cases_desk_id'))

    op.drop_table('cases')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_desk_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facilities_country'))

    op.drop_table('facilities')
    op.drop_table('accounts')
    op.drop_table('suppliers')
    op.drop_table('sms_opt_outs')
    op.drop_table('sms_numbers')
    op.drop_table('provider_deletions')
    op.drop_table('processed_inbound')
    op.drop_table('install_state')
    op.drop_table('desks')
    op.drop_table('counters')
    op.drop_table('buyer_orgs')
