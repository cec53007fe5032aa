"""The demo district office: its units, a fictitious person for each role, and cases of every kind.

Everything is created through the same operations a user's clicks go through, with the clock set
back, so the history, hash chains and queues of the demo are real.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from workflow import clock
from workflow.calendar import plan
from workflow.cases import approval, drafts
from workflow.db import Database
from workflow.engine import registry
from workflow.models import Office, Unit, User
from workflow.people import directory, taoyuan
from workflow.registers import budget, meetings, outreach, task_force, training_import

DEMO_PASSWORD = "caseflow-demo"
OFFICE_CODE = "demo"

UNITS = [
    ("civil", "民政課", "Civil Affairs Section"),
    ("social", "社會課", "Social Affairs Section"),
    ("personnel", "人事室", "Personnel Office"),
    ("accounting", "會計室", "Accounting Office"),
    ("secretariat", "秘書室", "Secretariat"),
]

# login, name, sex, unit, title, roles (role, unit for unit-scoped roles)
PEOPLE: list[tuple[str, str, str, str, str, list[str]]] = [
    ("personnel.staff", "林雅婷", "F", "personnel", "科員", ["staff", "personnel"]),
    ("personnel.chief", "陳志明", "M", "personnel", "人事室主任", ["chief"]),
    ("social.staff", "王怡君", "F", "social", "社工員", ["staff", "social_affairs"]),
    ("social.chief", "張家豪", "M", "social", "課長", ["chief"]),
    ("civil.staff", "李俊傑", "M", "civil", "課員", ["staff"]),
    ("civil.chief", "吳美玲", "F", "civil", "課長", ["chief"]),
    ("accounting.staff", "許文馨", "F", "accounting", "佐理員", ["staff"]),
    ("accounting.chief", "鄭國強", "M", "accounting", "會計主任", ["chief"]),
    ("secretariat.staff", "黃淑芬", "F", "secretariat", "課員", ["staff"]),
    ("secretariat", "蔡宗翰", "M", "secretariat", "秘書室主任", ["secretariat", "chief"]),
    ("liaison", "劉淑惠", "F", "civil", "課長", ["liaison"]),
    ("deputy.liaison", "楊明哲", "M", "social", "課員", ["deputy_liaison"]),
    ("convener", "周文華", "M", "secretariat", "區長", ["convener"]),
    ("deputy.convener", "蔡佩珊", "F", "secretariat", "主任秘書", ["deputy_convener"]),
    ("member", "謝美華", "F", "secretariat", "外聘委員", ["member"]),
    ("city", "趙怡萱", "F", "city", "市府性別主流化推動組", ["city_reviewer"]),  # the city's organisation
    ("admin", "系統管理者", "X", "secretariat", "資訊管理", ["admin"]),
]


NOT_CIVIL_SERVANTS = ("member", "city", "admin")

# The task force (plan §5.1): 11 members, 4 women and 7 men: the one-third rule is kept (at least
# 4 of each), the 40% target (5) is not; record one woman leaving to see the rule break.
# (login or None for an external member, name, sex, role, seat, affiliation)
TASK_FORCE: list[tuple[str | None, str, str, str, str, str]] = [
    ("convener", "周文華", "M", "convener", "unit_chief", "區長"),
    ("deputy.convener", "蔡佩珊", "F", "deputy_convener", "unit_chief", "主任秘書"),
    ("personnel.chief", "陳志明", "M", "member", "unit_chief", "人事室主任"),
    ("social.chief", "張家豪", "M", "member", "unit_chief", "社會課課長"),
    ("civil.chief", "吳美玲", "F", "member", "unit_chief", "民政課課長"),
    ("accounting.chief", "鄭國強", "M", "member", "unit_chief", "會計主任"),
    ("secretariat", "蔡宗翰", "M", "member", "ge_qualified", "秘書室主任（性別平等業務相關人員）"),
    ("liaison", "劉淑惠", "F", "member", "liaison", "性別議題聯絡人"),
    ("member", "謝美華", "F", "member", "external_civil", "社團法人桃園市婦女權益促進會（虛構）"),
    (None, "林建宏", "M", "member", "external_city", "桃園市政府婦幼發展局（虛構）"),
    (None, "江志遠", "M", "member", "external_civil", "性別平等教育學者（虛構）"),
]


# A year of training (性別意識培力) for the demo, some people short of the plan's hours; the
# personnel office's page and `caseflow compliance --office demo` show who lacks what.
TRAINING_CSV = """姓名,課程名稱,時數,上課方式,上課日期,課程代碼,課程類別
林雅婷,CEDAW 直接與間接歧視案例研討,2,實體,{y}.03.12,410,CEDAW
林雅婷,性別主流化工具與實例運用,2,線上,{y}.05.06,,進階
陳志明,CEDAW 直接與間接歧視案例研討,2,實體,{y}.03.12,410,CEDAW
王怡君,多元性別權益,1,實體,{y}.04.15,516,CEDAW
王怡君,性別平等政策概論,1,數位,{y}.02.20,,基礎
張家豪,性別平等政策概論,1,數位,{y}.02.20,,基礎
吳美玲,CEDAW 直接與間接歧視案例研討,2,實體,{y}.03.12,410,CEDAW
劉淑惠,CEDAW 直接與間接歧視案例研討,2,實體,{y}.03.12,410,CEDAW
劉淑惠,性別影響評估實務,6,實體,{y}.06.03,,進階
蔡宗翰,性別平等政策概論,1.5,線上,{y}.02.20,,基礎
"""


# Outreach (宣導) and the gender budget for the demo: the social affairs section's public event,
# two more events with materials, and this year's and last year's budget items.
OUTREACH = [  # unit, name, (month, day), place, topic, audience, public, men, women, materials
    ("social", "婦女節性別平等宣導園遊會", (3, 8), "示範區中正公園", "gender_equality", "區民", True, 126, 188,
     [("宣導摺頁", 500), ("環保袋", 200)]),
    ("civil", "鄰里長 CEDAW 宣導座談", (5, 14), "本所大禮堂", "cedaw", "里長、鄰長", False, 31, 17, [("海報", 30)]),
    ("social", "家庭暴力防治與性別平等講座", (9, 20), "示範區活動中心", "gender_equality", "社區志工", False, 12, 40,
     []),
]
EVENT_PHOTOS = [  # the public event's photos in the register: (alt text, caption)
    ("園遊會攤位前，民眾排隊參加性別平等闖關遊戲", "性別平等闖關遊戲"),
    ("志工向親子說明宣導摺頁內容", "志工說明宣導摺頁"),
]
BUDGET = [  # year offset, category, item, unit, budgeted, executed
    (-1, 1, "婦女節性別平等宣導活動", "social", 80_000, 76_500),
    (-1, 3, "性別影響評估教育訓練", "personnel", 30_000, 30_000),
    (0, 1, "婦女節性別平等宣導活動", "social", 90_000, 88_200),
    (0, 3, "性別影響評估教育訓練", "personnel", 30_000, None),
    (0, 5, "性別友善廁所改善", "civil", 250_000, None),
]


def _outreach_and_budget(s: Any, office_id: int, actor: int, unit_ids: dict[str, int], roc_year: int) -> None:
    year = roc_year + 1911
    for unit, name, (month, day), place, topic, audience, public, men, women, mats in OUTREACH:
        held = dt.date(year, month, day)
        if held > clock.today():
            continue
        event = outreach.add_event(s, office_id, actor, unit_id=unit_ids[unit], name=name, held_on=held,
                                   place=place, topic=topic, audience=audience, public=public, male=men, female=women,
                                   materials=mats)
        if public:  # its photos, which a posting can take from the register (edit page: 從宣導紀錄加入照片)
            for n, (alt, caption) in enumerate(EVENT_PHOTOS):
                outreach.add_photo(s, office_id, actor, event.id, _scene(n + 1), caption=caption, alt_text=alt)
    for offset, category, item, unit, budgeted, executed in BUDGET:
        budget.add_item(s, office_id, actor, roc_year=roc_year + offset, category=category, item=item,
                        unit_id=unit_ids[unit], budgeted=budgeted, executed=executed)


def _seat_task_force(db: Database, office_id: int, ids: dict[str, int], start: dt.date) -> None:
    with db.unit_of_work() as uow:
        for login, name, sex, role, seat, affiliation in TASK_FORCE:
            task_force.add_member(uow.session, office_id, ids["admin"], name=name, sex=sex,
                                  internal=not seat.startswith("external"),
                                  role=role, seat=seat, affiliation=affiliation, term_start=start,
                                  user_id=ids[login] if login else None)
        uow.commit()


def _png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (a stand-in event photo for the demo's postings)."""
    raw = b"".join(b"\x00" + b"\xc8\x64\x96" * width for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# The published posting's album: (file name, alt text, caption), drawn by ``_scene``.
ALBUM = [
    ("宣導現場.png", "講師站在講台前，向坐滿活動中心的里民說明 CEDAW 公約", "講師說明 CEDAW 與日常生活的關係"),
    ("有獎徵答.png", "里民舉手參加有獎徵答，工作人員在旁發放宣導品", "有獎徵答，里民踴躍參與"),
    ("宣導攤位.png", "宣導攤位上擺放性別平等摺頁與海報，民眾駐足閱讀", "性別平等宣導攤位與摺頁"),
]


def _scene(variant: int, width: int = 960, height: int = 640) -> bytes:
    """A drawn stand-in for an event photo (a stage, a banner and an audience): real pixels, so the
    public zone's album has something to show, without shipping photographs of real people."""
    import io

    from PIL import Image, ImageDraw

    palette = [((236, 228, 214), (164, 52, 58)), ((220, 232, 240), (18, 53, 91)), ((232, 240, 226), (46, 110, 62))]
    wall, accent = palette[variant % len(palette)]
    img = Image.new("RGB", (width, height), wall)
    d = ImageDraw.Draw(img)
    d.rectangle([0, int(height * 0.62), width, height], fill=(180, 150, 120))  # the floor
    d.rectangle([int(width * 0.18), int(height * 0.08), int(width * 0.82), int(height * 0.22)], fill=accent)  # banner
    d.rectangle([int(width * 0.35), int(height * 0.3), int(width * 0.65), int(height * 0.55)], fill=(250, 250, 250),
                outline=(90, 90, 90), width=4)  # the screen
    d.ellipse([int(width * 0.12), int(height * 0.33), int(width * 0.2), int(height * 0.45)], fill=(60, 45, 40))
    d.rectangle([int(width * 0.11), int(height * 0.45), int(width * 0.21), int(height * 0.66)], fill=accent)
    colours = [(70, 90, 140), (150, 70, 90), (90, 130, 80), (200, 150, 60), (110, 80, 140)]
    for row in range(3):
        for col in range(9):
            x = int(width * (0.08 + col * 0.105 + (row % 2) * 0.04))
            y = int(height * (0.68 + row * 0.1))
            d.ellipse([x, y - 34, x + 38, y + 4], fill=(55 + 10 * row, 40, 35))  # a head
            d.rectangle([x - 6, y + 4, x + 44, y + 60], fill=colours[(row * 9 + col + variant) % len(colours)])
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def sample_fields(kind: str, roc_year: int, period: str | None) -> dict[str, Any]:
    """Complete, realistic fields for a case of ``kind`` (used by the demo and the tests)."""
    y = roc_year + 1911
    q = int(period[1]) if period and period.startswith("Q") else 1
    d = dt.date(y, 3 * q - 1, 15).isoformat()
    if kind == "training_report":
        return {
            "summary": "本季辦理性別主流化課程 2 場，CEDAW 實體課程 1 場。",
            "courses": [
                {"course": "性別平等政策概論", "date": d, "hours": 2, "mode": "實體", "level": "基礎",
                 "male": 18, "female": 25},
                {"course": "CEDAW 案例研討：間接歧視", "date": d, "hours": 1, "mode": "實體", "level": "進階",
                 "cedaw_code": "412", "male": 12, "female": 20},
            ],
        }
    if kind == "outreach_report":
        return {
            "summary": "本季於里民活動中心辦理 CEDAW 宣導。",
            "events": [{"event": "CEDAW 與你我生活", "date": d, "place": "里民活動中心", "audience": "轄區民眾",
                        "male": 31, "female": 46, "materials": "摺頁 100 份"}],
        }
    if kind == "annual_result":
        return {
            "summary": f"{roc_year - 1}年度性別主流化執行成果。",
            "items": [{"item": "性別意識培力", "result": "辦理課程 8 場", "male": 70, "female": 96},
                      {"item": "性別平等宣導", "result": "辦理宣導 4 場", "male": 120, "female": 180}],
        }
    if kind == "budget_review":
        return {
            "items": [{"category": 1, "item": "性別平等宣導活動", "budgeted": 60000, "executed": 0},
                      {"category": 3, "item": "性別意識培力課程", "budgeted": 30000, "executed": 0}],
            "previous_year_note": "前年度預算執行率 96%。",
        }
    if kind == "outreach_event":
        return {"topic": "CEDAW 與多元性別權益", "event_date": d, "place": "區公所大禮堂",
                "audience": "轄區民眾", "male": 40, "female": 55}
    if kind == "promo_material":
        return {"material": "CEDAW 宣導摺頁", "format": "摺頁", "quantity": 500,
                "content": "介紹直接歧視、間接歧視與暫行特別措施。"}
    if kind == "task_force_meeting":
        # The April meeting, or (later in the year) one in two weeks: its notice must go out before it.
        meeting = max(dt.date(y, 4, 20), clock.today() + dt.timedelta(days=14))
        return {"session_no": f"{roc_year}年第1次定期會議", "meeting_date": meeting.isoformat(),
                "place": "本所第一會議室", "chair": "周文華區長",
                "agenda": [{"section": "報告事項", "subject": "前一年度性平執行成果", "outcome": "洽悉"},
                           {"section": "討論事項", "subject": "本年度性別預算", "outcome": "照案通過"}]}
    if kind == "local_programme":
        return {"programme": "社區性別友善環境改善方案", "partners": "婦幼發展局",
                "description": "盤點社區公共空間之性別友善設施。", "budget": 50000}
    if kind == "plan_amendment":
        return {"reason": "配合市府計畫調整成果報告提交時程。",
                "changes": [{"amended": "每季結束後10日內提交成果報告", "current": "每季初提交成果報告",
                             "explanation": "明定提交期限"}]}
    if kind == "web_posting":
        return {"heading": "CEDAW 宣導活動成果", "body": "本所社會課於里民活動中心辦理宣導，感謝民眾參與。",
                "activity_date": d}
    raise KeyError(kind)


@dataclass
class Script:
    """One demo case: who drafts it, and the steps it goes through (trigger, login, comment)."""

    kind: str
    unit: str
    drafter: str
    period: str | None
    steps: Sequence[tuple[str, str, str | None]]
    year_offset: int = 0


MAIN_TO_FILED: list[tuple[str, str, str | None]] = [
    ("submit", "@", None), ("approve", "@chief", None), ("approve", "secretariat", None),
                 ("approve", "convener", None), ("file_with_city_group", "liaison", None)]


def _scripts() -> list[Script]:
    p, s = "personnel.staff", "social.staff"
    return [
        Script("training_report", "personnel", p, "Q1", MAIN_TO_FILED),
        Script("training_report", "personnel", p, "Q2", MAIN_TO_FILED[:3]),
        Script("training_report", "personnel", p, "Q3", [("submit", "@", None),
               ("return_for_revision", "@chief", "第2列課程時數請依簽到表更正。")]),
        Script("training_report", "personnel", p, "Q4", []),
        Script("outreach_report", "social", s, "Q1", MAIN_TO_FILED[:4]),
        Script("outreach_report", "social", s, "Q2", MAIN_TO_FILED[:2]),
        Script("outreach_report", "social", s, "Q3", MAIN_TO_FILED[:1]),
        Script("outreach_report", "social", s, "Q4", []),
        Script("annual_result", "personnel", p, "Y", [*MAIN_TO_FILED, ("city_acknowledge", "city", None)],
               year_offset=-1),
        Script("annual_result", "personnel", p, "Y", MAIN_TO_FILED[:3]),
        Script("budget_review", "accounting", "accounting.staff", "Y", MAIN_TO_FILED[:1]),
        Script("outreach_event", "social", s, "Y", MAIN_TO_FILED[:2]),
        Script("promo_material", "social", s, "Y", []),
        Script("task_force_meeting", "secretariat", "secretariat.staff", "Y", MAIN_TO_FILED[:4]),
        Script("local_programme", "civil", "civil.staff", "Y", [("withdraw", "@", "本年度改與市府合辦，撤回本案。")]),
        Script("plan_amendment", "secretariat", "secretariat.staff", None,
               [*MAIN_TO_FILED[:4], ("file_with_city_group", "liaison", None)]),
        Script("web_posting", "social", s, None, [*MAIN_TO_FILED[:3], ("mark_published", "!", None)]),
        Script("web_posting", "social", s, None, [*MAIN_TO_FILED[:3], ("mark_publish_failed", "!", None)]),
        Script("web_posting", "social", s, None, []),
    ]


def _album(db: Database, case_id: int, drafter: int) -> None:
    """The published posting's photos, each with its alt text and caption, and a fuller text."""
    from workflow.cases import posting

    alts, captions = {}, {}
    for n, (name, alt, caption) in enumerate(ALBUM):
        att = drafts.add_attachment(case_id, drafter, name=name, content_type="image/png", content=_scene(n), db=db)
        alts[att], captions[att] = alt, caption
    posting.edit_posting(case_id, drafter, heading="婦女節 CEDAW 宣導活動成果", body=(
        "本所社會課於婦女節前夕在示範區活動中心辦理 CEDAW 宣導活動，由講師以生活案例說明直接歧視、間接歧視"
        "與暫行特別措施。\n活動設有有獎徵答與宣導攤位，共 77 位里民參與。感謝大家熱情參與！"),
        alt_texts=alts, captions=captions, db=db)


def _run(db: Database, case_id: int, sc: Script, ids: dict[str, int], at: dt.datetime,
         steps: Sequence[tuple[str, str, str | None]], first: int) -> None:
    chief = f"{sc.unit}.chief" if sc.unit != "secretariat" else "secretariat"
    for i, (trigger, who, comment) in enumerate(steps, start=first):
        login = {"@": sc.drafter, "@chief": chief}.get(who, who)
        with clock.shifted(at + dt.timedelta(days=3 * (i - first + 1) if first == 1 else i - first, hours=i)):
            approval.fire(case_id, trigger, None if who == "!" else ids[login], comment, db=db)


def _member_id(s: Any, office_id: int, name: str) -> int:
    from workflow.models import TaskForceMember

    return int(s.scalar(select(TaskForceMember.id).where(TaskForceMember.office_id == office_id,
                                                         TaskForceMember.name == name)))


def seed(db: Database, *, roc_year: int | None = None) -> Office:
    """Create the demo office and its cases; refuses to run twice."""
    roc_year = roc_year or clock.current_roc_year()
    registry.default().sync(db)
    with db.unit_of_work() as uow:
        s = uow.session
        if s.scalar(select(Office).where(Office.code == OFFICE_CODE)):
            raise RuntimeError("the demo office already exists")
        office = directory.add_office(s, OFFICE_CODE, "桃園市示範區公所", "Demo District Office, Taoyuan")
        office.address, office.phone = "330 桃園市示範區示範路 1 號（虛構）", "(03) 000-0000"
        units = {code: directory.add_unit(s, office, code, name, en) for code, name, en in UNITS}
        from workflow.people.passwords import hash_password

        pw = hash_password(DEMO_PASSWORD)  # one hash for all demo people: seeding stays fast
        # The city's 性別主流化推動組 is an organisation of its own: its reviewer reads what the demo
        # office files (and every other district's).
        city, _created = taoyuan.seed_city(s)
        city_unit = s.scalars(select(Unit).where(Unit.office_id == city.id)).first()
        for login, name, sex, unit, title, roles in PEOPLE:
            home, where = (city, city_unit) if unit == "city" else (office, units[unit])
            u = directory.add_user(s, home, login, name, sex=sex, unit=where, title=title,
                                   password_hash=pw, email=f"{login}@demo.caseflow.invalid")
            for role in roles:
                directory.grant(s, u, role, unit=where)
        users = {u.login: u for u in s.scalars(select(User).where(User.office_id == office.id))}
        today = clock.today()
        directory.delegate(s, users["personnel.chief"], users["civil.chief"], "chief", today - dt.timedelta(days=2),
                           today + dt.timedelta(days=12), "人事室主任公差，由民政課課長代理")
        uow.commit()
        office_id = office.id
        ids = {u.login: u.id for u in s.scalars(select(User).where(User.office_id.in_((office_id, city.id))))}
        unit_ids = {u.code: u.id for u in s.scalars(select(Unit).where(Unit.office_id == office_id))}
    start = clock.now() - dt.timedelta(days=40)
    _seat_task_force(db, office_id, ids, (start - dt.timedelta(days=365)).astimezone(clock.TAIPEI).date())
    with db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == ids["liaison"]).values(ge_staff=True))
        # The external member, the city reviewer and the system account owe no training hours;
        # 許文馨 joined the accounting office in July, so her hours are read against half a year.
        uow.session.execute(update(User).where(User.id.in_([ids[x] for x in NOT_CIVIL_SERVANTS]))
                            .values(civil_servant=False))
        uow.session.execute(update(User).where(User.id == ids["accounting.staff"])
                            .values(joined_on=dt.date(roc_year + 1911, 7, 1)))
        training_import.import_csv(uow.session, office_id, ids["personnel.staff"],
                                   TRAINING_CSV.format(y=roc_year).encode())
        _outreach_and_budget(uow.session, office_id, ids["social.staff"], unit_ids, roc_year)
        uow.commit()
    # The task force meets once, after every case of the first part has reached it: the steps up to
    # the convener's approval run first, then the meeting decides, then the rest.
    meeting_at = start + dt.timedelta(days=17)
    meeting_day = meeting_at.astimezone(clock.TAIPEI).date()
    png = _png()
    later: list[tuple[int, dt.datetime, list[tuple[str, str, str | None]], Script]] = []
    agenda: list[int] = []
    meeting_case: int | None = None
    for n, sc in enumerate(_scripts()):
        year = roc_year + sc.year_offset
        at = start + dt.timedelta(days=n % 7, hours=n)
        defn = registry.default().latest(sc.kind)
        label = {"Q1": "第1季", "Q2": "第2季", "Q3": "第3季", "Q4": "第4季", "Y": "年度"}.get(sc.period or "", "")
        if defn.label.startswith(label):  # 年度性平執行成果表: not "115年年度年度..."
            label = ""
        with db.unit_of_work(write=False) as uow:
            due = plan.due_date_for(uow.session, office_id, sc.kind, year, sc.period)
        fields = sample_fields(sc.kind, year, sc.period)
        if sc.kind == "task_force_meeting":  # the meeting the register records below
            fields["meeting_date"] = meeting_day.isoformat()
        with clock.shifted(at):
            case_id = drafts.create_case(
                kind=sc.kind, unit_id=unit_ids[sc.unit], roc_year=year, period=sc.period,
                title=f"{year}年{label}{defn.label}", actor=ids[sc.drafter],
                fields=fields, due_date=due, db=db,
            )
            if any(trigger == "mark_published" for trigger, _who, _c in sc.steps):
                _album(db, case_id, ids[sc.drafter])
            elif defn.min_attachments:  # the other postings' photo has no alt text: one fails its checks
                drafts.add_attachment(case_id, ids[sc.drafter], name="活動照片.png", content_type="image/png",
                                      content=png, db=db)
        steps = list(sc.steps)
        cut = next((i for i, (trigger, who, _c) in enumerate(steps) if (trigger, who) == ("approve", "convener")),
                   len(steps))
        _run(db, case_id, sc, ids, at, steps[:cut], 1)
        if cut < len(steps):
            later.append((case_id, at, steps[cut:], sc))
            if sc.kind == "task_force_meeting":
                meeting_case = case_id
            else:
                agenda.append(case_id)
    with clock.shifted(meeting_at), db.unit_of_work() as uow:
        meetings.hold(uow.session, office_id, ids["secretariat.staff"], held_on=meeting_day, place="本所第一會議室",
                      passes=tuple(agenda), notice_on=meeting_day - dt.timedelta(days=7),
                      contact_name="黃淑芬", contact_phone="(03) 000-0000 轉 123", meeting_case_id=meeting_case,
                      absent=(_member_id(uow.session, office_id, "江志遠"),))
        uow.commit()
    for case_id, at, steps, sc in later:
        _run(db, case_id, sc, ids, max(at, meeting_at + dt.timedelta(hours=1)), steps, 4)
    return office
