"""The task force's members (plan §5.1): who sits on it on a given day, and whether it keeps the
plan's rules: neither sex below one third of the members in office (``ceil(n/3)``, a violation),
40% as the target (``ceil(0.4n)``, a warning), and the gender-issue liaison at section-chief
level or above. The shares are configuration (``Rules``); the counting is pure.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflow import rocdate
from workflow.errors import NotFound, ValidationError
from workflow.models import RoleAssignment, TaskForceMember, User
from workflow.models.registers import MEMBER_ROLES, SEATS
from workflow.people import admin_log
from workflow.rocdate import roc_year_bounds
from workflow.roles import Role

# The liaison must be section-chief level or above (plan §5.1(2)): a title with one of these words.
LIAISON_TITLES = ("課長", "主任", "秘書", "區長")
SEX_WORDS = {"F": ("女性", "women"), "M": ("男性", "men")}
# How documents and exports name a member's role and seat.
ROLE_WORDS = {"convener": "召集人", "deputy_convener": "副召集人", "member": "委員"}
SEAT_WORDS = {"unit_chief": "課室主管", "liaison": "性別議題聯絡人", "ge_qualified": "具性平資格人員",
              "external_city": "外聘（市府）", "external_civil": "外聘（民間）"}


@dataclass(frozen=True)
class Rules:
    """What an office's task force must keep; the plan's values by default."""

    min_share: Fraction = Fraction(1, 3)  # below it: a violation
    target_share: Fraction = Fraction(2, 5)  # below it: a warning
    quorum_share: Fraction = Fraction(1, 2)  # a meeting needs more than this share of members in office
    proxy_counts: bool = True  # a member represented by proxy counts as present


DEFAULT_RULES = Rules()


class MemberLike(Protocol):
    @property
    def sex(self) -> str: ...


def at_least(n: int, share: Fraction) -> int:
    return math.ceil(Fraction(n) * share)


@dataclass(frozen=True)
class Composition:
    members: int
    women: int
    men: int
    min_per_sex: int
    target_per_sex: int

    @property
    def rule_met(self) -> bool:
        return self.members > 0 and min(self.women, self.men) >= self.min_per_sex

    @property
    def target_met(self) -> bool:
        return self.members > 0 and min(self.women, self.men) >= self.target_per_sex

    def missing(self, need: int) -> dict[str, int]:
        """How many more of each sex the task force needs to reach ``need`` per sex."""
        return {sex: max(0, need - have) for sex, have in (("F", self.women), ("M", self.men))
                if need > have}

    def shortfall(self) -> tuple[str, str] | None:
        """The rule's violation in words (zh-TW, English), or None when it is kept."""
        if self.members == 0:
            return "專案小組目前沒有在任委員", "the task force has no members in office"
        lack = self.missing(self.min_per_sex)
        if not lack:
            return None
        zh = "、".join(f"{SEX_WORDS[s][0]} {n} 人" for s, n in lack.items())
        en = ", ".join(f"{n} more {SEX_WORDS[s][1]}" for s, n in lack.items())
        return (f"任一性別不得少於委員總數三分之一（{self.members} 人中每一性別至少 {self.min_per_sex} 人）：尚缺{zh}",
                f"neither sex may be under one third ({self.min_per_sex} of {self.members}): needs {en}")


def composition(members: Sequence[MemberLike], rules: Rules = DEFAULT_RULES) -> Composition:
    n = len(members)
    women = sum(1 for m in members if m.sex == "F")
    return Composition(n, women, n - women, at_least(n, rules.min_share), at_least(n, rules.target_share))


def in_office(s: Session, office_id: int, day: dt.date) -> list[TaskForceMember]:
    """The members whose term covers ``day``, convener first."""
    rows = s.scalars(select(TaskForceMember).where(
        TaskForceMember.office_id == office_id, TaskForceMember.term_start <= day,
        or_(TaskForceMember.term_end.is_(None), TaskForceMember.term_end >= day)))
    order = {r: i for i, r in enumerate(MEMBER_ROLES)}
    return sorted(rows, key=lambda m: (order[m.role], m.id))


def add_member(s: Session, office_id: int, actor_id: int | None, *, name: str, sex: str, internal: bool, role: str,
               seat: str, term_start: dt.date, term_end: dt.date | None = None, affiliation: str = "",
               user_id: int | None = None) -> TaskForceMember:
    """Seat a member for a term; refused with a message per field when a value is wrong."""
    name, affiliation = " ".join((name or "").split()), " ".join((affiliation or "").split())
    errors: dict[str, tuple[str, str]] = {}
    if not name or len(name) > 100:
        errors["name"] = ("請填寫委員姓名（最多 100 字）", "a name of at most 100 characters is required")
    if sex not in SEX_WORDS:
        errors["sex"] = ("請選擇性別（女或男），以計算性別比例", "choose F or M (the one-third rule counts them)")
    if role not in MEMBER_ROLES:
        errors["role"] = ("請選擇召集人、副召集人或委員", "choose convener, deputy convener or member")
    if seat not in SEATS:
        errors["seat"] = ("請選擇席次類別", "choose the kind of seat")
    elif internal == seat.startswith("external"):
        errors["seat"] = ("外聘席次須為外部委員，課室主管、聯絡人、具性平資格人員須為本所人員",
                          "external seats are for external members, the others for the office's own staff")
    if term_end is not None and term_end < term_start:
        errors["term_end"] = ("任期結束日不可早於開始日", "the term cannot end before it starts")
    if user_id is not None:
        owner = s.scalar(select(User.office_id).where(User.id == user_id))
        if owner != office_id:
            errors["user_id"] = ("找不到這位本所同仁", "no such person in this office")
    if errors:
        raise ValidationError(errors)
    member = TaskForceMember(office_id=office_id, user_id=user_id, name=name, sex=sex, internal=internal, role=role,
                             seat=seat, affiliation=affiliation[:100], term_start=term_start, term_end=term_end)
    s.add(member)
    s.flush()
    admin_log.record(s, office_id, actor_id, "task_force.member.add", member_id=member.id, name=name, sex=sex,
                     role=role, seat=seat, internal=internal, term_start=term_start, term_end=term_end)
    return member


def end_term(s: Session, office_id: int, actor_id: int | None, member_id: int, last_day: dt.date) -> TaskForceMember:
    """Record that a member leaves: ``last_day`` is the last day in office (before/after kept in the log)."""
    member = s.get(TaskForceMember, member_id)
    if member is None or member.office_id != office_id:
        raise NotFound(f"找不到委員 {member_id}", f"no task force member {member_id}")
    if last_day < member.term_start:
        raise ValidationError({"term_end": ("卸任日不可早於任期開始日",
                                            "the last day cannot be before the term starts")})
    before = member.term_end
    member.term_end = last_day
    s.flush()
    admin_log.record(s, office_id, actor_id, "task_force.member.end", member_id=member.id, name=member.name,
                     before=before, after=last_day)
    return member


@dataclass(frozen=True)
class LiaisonCheck:
    name: str | None
    title: str | None

    @property
    def rank_ok(self) -> bool:
        return self.name is not None and title_rank_ok(self.title)


def title_rank_ok(title: str | None) -> bool:
    """Is a liaison with this title at section-chief level or above (plan §5.1(2))?"""
    return any(w in (title or "") for w in LIAISON_TITLES)


def liaison(s: Session, office_id: int, day: dt.date) -> LiaisonCheck:
    """The office's gender-issue liaison on ``day`` and whether the title is section-chief level or above."""
    row = s.execute(
        select(User.display_name, User.title).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.office_id == office_id, RoleAssignment.role == Role.LIAISON,
               RoleAssignment.valid_from <= day,
               or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= day))
        .order_by(RoleAssignment.id).limit(1)).one_or_none()
    return LiaisonCheck(row[0], row[1]) if row else LiaisonCheck(None, None)


EXPORT_HEADER = ["姓名", "性別", "職務", "席次", "服務單位／職稱", "任期開始", "任期結束"]


def export_rows(s: Session, office_id: int, roc_year: int) -> list[list[str]]:
    """Every member whose term touches the year (those who left kept, with their last day)."""
    first, last = roc_year_bounds(roc_year)
    rows = s.scalars(select(TaskForceMember).where(
        TaskForceMember.office_id == office_id, TaskForceMember.term_start <= last,
        or_(TaskForceMember.term_end.is_(None), TaskForceMember.term_end >= first)))
    order = {r: i for i, r in enumerate(MEMBER_ROLES)}
    return [[m.name, SEX_WORDS[m.sex][0][:1], ROLE_WORDS[m.role], SEAT_WORDS[m.seat], m.affiliation,
             rocdate.short(m.term_start), rocdate.short(m.term_end) if m.term_end else ""]
            for m in sorted(rows, key=lambda m: (order[m.role], m.term_start, m.id))]
