"""The tables. Every row belongs to one office (a district office is a tenant)."""

from workflow.models.admin import AdminEvent
from workflow.models.api_token import ApiToken
from workflow.models.base import Base
from workflow.models.calendar import (
    Notification,
    OfficeClosure,
    PlanObligation,
    PlanPeriod,
    Reminder,
    StepLimit,
)
from workflow.models.case import Attachment, Case
from workflow.models.document import Document, DocumentTemplate
from workflow.models.history import HistoryEvent
from workflow.models.outbox import OutboxMessage
from workflow.models.people import Delegation, Office, OfficeRevision, RoleAssignment, Unit, User
from workflow.models.publication import Publication
from workflow.models.registers import (
    BudgetItem,
    CourseCode,
    OutreachEvent,
    OutreachMaterial,
    OutreachPhoto,
    TaskForceAttendance,
    TaskForceDecision,
    TaskForceMeeting,
    TaskForceMember,
    TrainingRecord,
    WrittenApproval,
)
from workflow.models.workflow_version import WorkflowVersion

__all__ = [
    "AdminEvent",
    "ApiToken",
    "Attachment",
    "Base",
    "BudgetItem",
    "Case",
    "CourseCode",
    "Delegation",
    "Document",
    "DocumentTemplate",
    "HistoryEvent",
    "Notification",
    "Office",
    "OfficeClosure",
    "OfficeRevision",
    "OutboxMessage",
    "OutreachEvent",
    "OutreachMaterial",
    "OutreachPhoto",
    "PlanObligation",
    "PlanPeriod",
    "Publication",
    "Reminder",
    "RoleAssignment",
    "StepLimit",
    "TaskForceAttendance",
    "TaskForceDecision",
    "TaskForceMeeting",
    "TaskForceMember",
    "TrainingRecord",
    "Unit",
    "User",
    "WorkflowVersion",
    "WrittenApproval",
]
