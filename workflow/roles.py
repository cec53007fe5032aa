"""The roles of R4, and which of them apply to one unit (課室) rather than the whole office."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    STAFF = "staff"  # 承辦人
    CHIEF = "chief"  # 課長
    SECRETARIAT = "secretariat"  # 秘書室
    LIAISON = "liaison"  # 性別議題聯絡人
    DEPUTY_LIAISON = "deputy_liaison"  # 代理聯絡人
    CONVENER = "convener"  # 專案小組召集人 (區長)
    DEPUTY_CONVENER = "deputy_convener"  # 副召集人 (主任秘書)
    MEMBER = "member"  # 專案小組委員
    PERSONNEL = "personnel"  # 人事室
    SOCIAL_AFFAIRS = "social_affairs"  # 社會課
    CITY_REVIEWER = "city_reviewer"  # 市府性別主流化推動組
    ADMIN = "admin"  # 系統管理者


# Background workers act as this pseudo-role (publishing outcomes, for example). No user holds it.
SYSTEM = "system"

# Roles held for one unit: a chief approves only their own unit's cases.
UNIT_SCOPED: frozenset[str] = frozenset({Role.STAFF, Role.CHIEF})

ROLE_LABELS: dict[str, tuple[str, str]] = {
    Role.STAFF: ("承辦人", "Section staff"),
    Role.CHIEF: ("課長", "Section chief"),
    Role.SECRETARIAT: ("秘書室", "Secretariat"),
    Role.LIAISON: ("性別議題聯絡人", "Gender-issue liaison"),
    Role.DEPUTY_LIAISON: ("代理聯絡人", "Deputy liaison"),
    Role.CONVENER: ("召集人", "Task force convener"),
    Role.DEPUTY_CONVENER: ("副召集人", "Deputy convener"),
    Role.MEMBER: ("專案小組委員", "Task force member"),
    Role.PERSONNEL: ("人事室", "Personnel office"),
    Role.SOCIAL_AFFAIRS: ("社會課", "Social affairs"),
    Role.CITY_REVIEWER: ("市府推動組審查", "City reviewer"),
    Role.ADMIN: ("系統管理者", "Administrator"),
    SYSTEM: ("系統", "System"),
}

ALL_ROLES: frozenset[str] = frozenset(r.value for r in Role)
