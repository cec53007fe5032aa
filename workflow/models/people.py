"""Offices (tenants), units (課室), people, their roles and delegations (代理)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.clock import now
from workflow.models.base import Base


class Office(Base):
    """A district office (區公所), e.g. 桃園市桃園區公所."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    # Printed on the office's 函 (地址, 電話); an administrator sets them on 管理 → 本所資料.
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Written approval (書面審查) in place of a meeting: how many task force members must approve
    # in writing; 0 where the office does not allow it (管理 → 本所資料).
    written_approval_min: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The office's own variant of some workflows (workflow/kinds/variants/<name>/), "" for none.
    workflow_variant: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # "district" (a 區公所: a tenant with cases) or "city" (the city's 性別主流化推動組: its reviewers
    # read what every district files and acknowledge it or send it back).
    kind: Mapped[str] = mapped_column(String(10), default="district", server_default="district")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    units: Mapped[list[Unit]] = relationship(back_populates="office", order_by="Unit.id")


class OfficeRevision(Base):
    """A counter per office that the database itself raises (triggers, migration 0009) in every
    transaction that changes a row the office's pages show: its cases and their history, people,
    roles, delegations, units, notifications, closures. Row 0 counts the changes every office sees
    (step limits, workflow versions, the plan, city-wide closures). An office's revision is the sum
    of its row and row 0: a page rendered at one revision is still exact while the sum is unchanged
    (``web.page_cache``). No foreign key: the counter outlives nothing and must never block a
    commit."""

    __tablename__ = "office_revisions"

    office_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)


class Unit(Base):
    """A section (課室) of an office: 民政課, 社會課, 人事室, 秘書室, ..."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("office_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))

    office: Mapped[Office] = relationship(back_populates="units")


# How a person wants the e-mail copy of their notifications (通知設定): each one as it comes, one
# e-mail a day with everything since the last, or none (the in-app inbox has them all regardless).
EMAIL_MODES = ("immediate", "digest", "none")
# The language of that e-mail (NULL: Traditional Chinese, the product's first language).
LANGUAGES = ("zh_TW", "en")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("sex IN ('F', 'M', 'X')", name="sex"),
        CheckConstraint("notify_email IN ('immediate', 'digest', 'none')", name="notify_email"),
        CheckConstraint("language IS NULL OR language IN ('zh_TW', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))  # for statistics by sex: F, M, or X (not stated)
    title: Mapped[str | None] = mapped_column(String(64))  # 職稱, e.g. 課長
    rank: Mapped[str | None] = mapped_column(String(64))  # 職等, e.g. 薦任第8職等
    email: Mapped[str | None] = mapped_column(String(200))
    employee_no: Mapped[str | None] = mapped_column(String(32))  # 員工編號: how training imports find a person
    ge_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # 性別平等業務相關人員 (10 h)
    # The plan's yearly training hours bind the office's civil servants (公務人員), not an external
    # task force member or a system account who also log in.
    civil_servant: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    joined_on: Mapped[dt.date | None] = mapped_column(Date)  # 到職日; blank: before the records began
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_email: Mapped[str] = mapped_column(String(10), default="immediate", server_default="immediate")
    language: Mapped[str | None] = mapped_column(String(5))  # of the e-mail; NULL: zh_TW
    # The day (Taipei) this person's last daily digest was claimed: at most one digest a day, whoever
    # sends it and however often the daily task runs.
    digest_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    # Bumped by logging out: ends every session and remember-me cookie handed out before (web.auth).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    office: Mapped[Office] = relationship()
    unit: Mapped[Unit | None] = relationship()


class RoleAssignment(Base):
    """A user holds a role in an office (and for one unit, for unit-scoped roles) over a period."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        Index("ix_role_assignments_office_role", "office_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    user: Mapped[User] = relationship()
    unit: Mapped[Unit | None] = relationship()


class Delegation(Base):
    """代理: while ``from_user`` is away, ``to_user`` acts in their role, in their name."""

    __tablename__ = "delegations"
    __table_args__ = (
        CheckConstraint("valid_to >= valid_from", name="period"),
        CheckConstraint("from_user_id <> to_user_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id])
