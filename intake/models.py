"""Imports every domain's models so that the metadata (and Alembic) sees all tables."""

from intake.accounts.models import (
    Account,
    AccountStatus,
    ApiToken,
    Desk,
    InstallState,
    Membership,
    MembershipApproval,
    MembershipStatus,
    Role,
    SmsNumber,
)
from intake.alerts.models import (
    Alert,
)
from intake.audit.models import AuditEvent
from intake.cases.models import Case, CaseNote, CaseReport, CaseStatus
from intake.db import Base
from intake.messaging.models import (
    Conversation,
    Counter,
    OptOut,
    OutboundMessage,
    OutboundStatus,
    PendingDeletion,
    ProcessedInbound,
)
from intake.remedy.models import (
    ActionOwner,
    ActionStatus,
    RemedyAction,
    Verdict,
    WorkerVerdict,
)
from intake.reports.models import Author, Channel, Report, ReportDesk, ReportMessage, TriageStatus
from intake.retention.models import ReportTally
from intake.supplychain.models import BuyerOrg, Contract, Coverage, Facility, Supplier

__all__ = [
    "Account",
    "AccountStatus",
    "ActionOwner",
    "ActionStatus",
    "Alert",
    "ApiToken",
    "AuditEvent",
    "Author",
    "Base",
    "BuyerOrg",
    "Case",
    "CaseNote",
    "CaseReport",
    "CaseStatus",
    "Channel",
    "Contract",
    "Conversation",
    "Counter",
    "Coverage",
    "Desk",
    "Facility",
    "InstallState",
    "Membership",
    "MembershipApproval",
    "MembershipStatus",
    "OptOut",
    "OutboundMessage",
    "OutboundStatus",
    "PendingDeletion",
    "ProcessedInbound",
    "RemedyAction",
    "Report",
    "ReportDesk",
    "ReportMessage",
    "ReportTally",
    "Role",
    "SmsNumber",
    "Supplier",
    "TriageStatus",
    "Verdict",
    "WorkerVerdict",
]
