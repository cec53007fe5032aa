"""The registers of the plan's facts: the task force (性別平等專案小組) with its members, meetings,
attendance and decisions (migration 0012), and training hours (性別意識培力) with the
lifelong-learning course codes they are filed under (migration 0013), outreach events with their
materials and photos, gender budget items, and members' written approvals (migration 0014)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base

MEMBER_ROLES = ("convener", "deputy_convener", "member")
# 課室主管, 聯絡人, 具性平資格人員 inside the office; 外聘 from a city bureau or civil society.
SEATS = ("unit_chief", "liaison", "ge_qualified", "external_city", "external_civil")
MEETING_KINDS = ("regular", "adhoc")  # 定期 (April) or 臨時
ATTENDANCE = ("present", "excused", "proxy")
DECISIONS = ("passed", "amended", "returned")  # 通過, 修正後通過, 退回
TRAINING_CATEGORIES = ("gm_basic", "gm_advanced", "cedaw")  # 性別主流化 基礎 / 進階, CEDAW
TRAINING_MODES = ("in_person", "online", "digital")  # 實體, 線上, 數位
OUTREACH_TOPICS = ("cedaw", "gender_equality")  # CEDAW, 性別平等
BUDGET_CATEGORIES = (1, 2, 3, 4, 5)  # 計畫類, 綱領類, 工具類, 性平法令類, 其他類


class TaskForceMember(Base):
    """A seat on the office's task force for a term; a person who leaves keeps the row, with its end."""

    __tablename__ = "task_force_members"
    __table_args__ = (
        CheckConstraint("sex IN ('F', 'M')", name="sex"),
        CheckConstraint(f"role IN {MEMBER_ROLES}", name="role"),
        CheckConstraint(f"seat IN {SEATS}", name="seat"),
        CheckConstraint("term_end IS NULL OR term_end >= term_start", name="term"),
        Index("ix_task_force_members_office", "office_id", "term_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # internal members have an account
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    internal: Mapped[bool] = mapped_column(Boolean)
    role: Mapped[str] = mapped_column(String(20))
    seat: Mapped[str] = mapped_column(String(20))
    affiliation: Mapped[str] = mapped_column(String(100), default="", server_default="")  # 服務單位 / 職稱
    term_start: Mapped[dt.date] = mapped_column(Date)
    term_end: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class TaskForceMeeting(Base):
    """A meeting (第N次), held on a day; its notice goes out before it."""

    __tablename__ = "task_force_meetings"
    __table_args__ = (
        UniqueConstraint("office_id", "number"),
        CheckConstraint(f"kind IN {MEETING_KINDS}", name="kind"),
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint("notice_on IS NULL OR notice_on < held_on", name="notice_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    held_on: Mapped[dt.date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(100))
    notice_on: Mapped[dt.date | None] = mapped_column(Date)
    contact_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))  # its 會議 case (notice, minutes)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class TaskForceAttendance(Base):
    """Whether a member in office on the meeting day was there (in person, excused, by proxy)."""

    __tablename__ = "task_force_attendance"
    __table_args__ = (CheckConstraint(f"status IN {ATTENDANCE}", name="status"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("task_force_meetings.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("task_force_members.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    proxy_name: Mapped[str] = mapped_column(String(100), default="", server_default="")


class TaskForceDecision(Base):
    """What a meeting decided about one case on its agenda, with the votes in favour."""

    __tablename__ = "task_force_decisions"
    __table_args__ = (
        UniqueConstraint("meeting_id", "case_id"),
        CheckConstraint(f"decision IN {DECISIONS}", name="decision"),
        CheckConstraint("votes_for >= 0", name="votes_for"),
        Index("ix_task_force_decisions_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("task_force_meetings.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    decision: Mapped[str] = mapped_column(String(10))
    votes_for: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=now)


class CourseCode(Base):
    """A lifelong-learning course code (終身學習課程代碼) and whether a course filed under it counts
    as the CEDAW in-person course (plan §5.3(一)1(4)); reference data shared by every office,
    seeded with the plan's six codes, editable (their labels are not published: DOMAIN.md §4)."""

    __tablename__ = "course_codes"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), default="", server_default="")
    counts_as_cedaw: Mapped[bool] = mapped_column(Boolean, default=False)


class TrainingRecord(Base):
    """Hours one person spent on one gender-awareness course on one day."""

    __tablename__ = "training_records"
    __table_args__ = (
        UniqueConstraint("user_id", "course", "held_on"),
        CheckConstraint(f"category IN {TRAINING_CATEGORIES}", name="category"),
        CheckConstraint(f"mode IN {TRAINING_MODES}", name="mode"),
        CheckConstraint("hours > 0 AND hours <= 24", name="hours"),
        Index("ix_training_records_office_day", "office_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course: Mapped[str] = mapped_column(String(200))
    course_code: Mapped[str | None] = mapped_column(ForeignKey("course_codes.code"))
    category: Mapped[str] = mapped_column(String(12))
    mode: Mapped[str] = mapped_column(String(10))
    held_on: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class WrittenApproval(Base):
    """A member's written approval of a case (書面審查), where the office allows it instead of a
    meeting (``offices.written_approval_min`` members of those in office)."""

    __tablename__ = "task_force_written_approvals"
    __table_args__ = (Index("ix_task_force_written_approvals_case", "case_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("task_force_members.id"))
    approved_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=now)


class OutreachEvent(Base):
    """A gender-equality outreach event (宣導) a unit held: where, on what, for whom, how many came."""

    __tablename__ = "outreach_events"
    __table_args__ = (
        CheckConstraint(f"topic IN {OUTREACH_TOPICS}", name="topic"),
        CheckConstraint("male >= 0 AND female >= 0", name="participants"),
        Index("ix_outreach_events_office_day", "office_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    name: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[dt.date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(100))
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # open to the public (plan §5.3(二))
    male: Mapped[int] = mapped_column(Integer, default=0)
    female: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class OutreachMaterial(Base):
    """Printed or digital material handed out at an event (文宣: a kind and how many)."""

    __tablename__ = "outreach_materials"
    __table_args__ = (CheckConstraint("count > 0", name="count"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outreach_events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    count: Mapped[int] = mapped_column(Integer)


class OutreachPhoto(Base):
    """A photo of an event with its caption and the alt text the public zone needs."""

    __tablename__ = "outreach_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outreach_events.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(50))
    caption: Mapped[str] = mapped_column(String(200))
    alt_text: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=now)


class BudgetItem(Base):
    """One line of the office's gender budget (性別預算) for a year: budgeted, and executed once known."""

    __tablename__ = "budget_items"
    __table_args__ = (
        UniqueConstraint("office_id", "roc_year", "unit_id", "item"),
        CheckConstraint("category BETWEEN 1 AND 5", name="category"),
        CheckConstraint("budgeted >= 0 AND (executed IS NULL OR executed >= 0)", name="amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    roc_year: Mapped[int] = mapped_column(Integer)
    category: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    budgeted: Mapped[int] = mapped_column(BigInteger)
    executed: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
