"""Taoyuan's 13 district offices (DOMAIN.md §2) as caseflow's tenants, and the city's 性別主流化推動組
that reviews what they file: each with its full name (which
gives its 發文字號 its 字, e.g. 中壢性字), the units the plan's cases belong to, and the postal code
and district of its address.

Street addresses and telephone numbers are not in any source this project holds, so the seed
writes the postal code and district only and each office's administrator completes them on
管理 → 本所資料 (they print on the office's 函). Seeding twice creates nothing: an office already
there (by code) keeps what its administrator changed; only missing units are added.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Office, Unit
from workflow.people import directory


@dataclass(frozen=True)
class District:
    code: str
    name: str  # 區
    name_en: str
    postal_code: str
    variant: str = ""  # the office's own variant of some workflows (workflow/kinds/variants/<variant>/)

    @property
    def office_name(self) -> str:
        return f"桃園市{self.name}公所"

    @property
    def office_name_en(self) -> str:
        return f"{self.name_en} District Office, Taoyuan City"

    @property
    def address(self) -> str:
        return f"{self.postal_code} 桃園市{self.name}"


# Romanized names as DOMAIN.md §2 gives them; 復興區 is a mountain indigenous district with an
# elected 區長 and 區民代表會: its office files results with the council too (variant "fuxing").
DISTRICTS: tuple[District, ...] = (
    District("taoyuan", "桃園區", "Taoyuan", "330"),
    District("zhongli", "中壢區", "Zhongli", "320"),
    District("pingzhen", "平鎮區", "Pingzhen", "324"),
    District("bade", "八德區", "Bade", "334"),
    District("yangmei", "楊梅區", "Yangmei", "326"),
    District("luzhu", "蘆竹區", "Luzhu", "338"),
    District("daxi", "大溪區", "Daxi", "335"),
    District("longtan", "龍潭區", "Longtan", "325"),
    District("guishan", "龜山區", "Guishan", "333"),
    District("dayuan", "大園區", "Dayuan", "337"),
    District("guanyin", "觀音區", "Guanyin", "328"),
    District("xinwu", "新屋區", "Xinwu", "327"),
    District("fuxing", "復興區", "Fuxing", "336", variant="fuxing"),
)

# The units the plan's kinds belong to (each kind's default_unit), as every district office has them.
UNITS: tuple[tuple[str, str, str], ...] = (
    ("civil", "民政課", "Civil Affairs Section"),
    ("social", "社會課", "Social Affairs Section"),
    ("personnel", "人事室", "Personnel Office"),
    ("accounting", "會計室", "Accounting Office"),
    ("secretariat", "秘書室", "Secretariat"),
)


# The city's own organisation: its 性別主流化推動組 reviews what the districts file (not a tenant with
# cases; offices.kind "city"). DOMAIN.md §2: which body staffs it is not confirmed; the name is
# configuration (管理 → 本所資料).
CITY = ("city", "桃園市政府性別平等辦公室", "Office for Gender Equality, Taoyuan City Government")
CITY_UNIT = ("mainstreaming", "性別主流化推動組", "Gender Mainstreaming Promotion Group")


def seed_city(s: Session) -> tuple[Office, bool]:
    """The city group's organisation with its one unit; (office, created)."""
    code, name, name_en = CITY
    office = s.scalar(select(Office).where(Office.code == code))
    if office is not None:
        return office, False
    office = directory.add_office(s, code, name, name_en)
    office.kind = "city"
    directory.add_unit(s, office, *CITY_UNIT)
    s.flush()
    return office, True


@dataclass(frozen=True)
class Seeded:
    code: str
    office_id: int
    created: bool
    units_added: int


def seed(s: Session) -> list[Seeded]:
    """Create the offices that are missing (the city group's organisation too), and the units an
    office lacks; nothing twice."""
    city, city_created = seed_city(s)
    out = [Seeded(city.code, city.id, city_created, 1 if city_created else 0)]
    for d in DISTRICTS:
        office = s.scalar(select(Office).where(Office.code == d.code))
        created = office is None
        if office is None:
            office = directory.add_office(s, d.code, d.office_name, d.office_name_en)
            office.address, office.workflow_variant = d.address, d.variant
        have = set(s.scalars(select(Unit.code).where(Unit.office_id == office.id)))
        added = [directory.add_unit(s, office, code, name, en) for code, name, en in UNITS if code not in have]
        out.append(Seeded(d.code, office.id, created, len(added)))
    s.flush()
    return out
