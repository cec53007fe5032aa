"""The outreach and gender budget registers, written approval, and the documents they feed: every
bad value refused by field, changes recorded with before and after, the social affairs section's
public event, tables whose totals equal the register rows, and a 函 citing only what was decided."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from caseflow.cli.registers import compliance_dict
from documents.context import NoticeTooLate, build
from tests.conftest import OfficeFixture
from workflow import clock
from workflow.cases import approval, drafts
from workflow.demo import _png
from workflow.errors import ConditionFailed, ValidationError
from workflow.models import AdminEvent, Case, Office, OutreachEvent
from workflow.registers import budget, fill, meetings, outreach, task_force, written

YEAR = 115


def _event(office: OfficeFixture, unit: str = "social", **over: Any) -> int:
    values: dict[str, Any] = dict(unit_id=office.units[unit], name="婦女節宣導", held_on=dt.date(2026, 3, 8),
                                  place="中正公園", topic="gender_equality", audience="區民", public=True, male=12,
                                  female=30)
    materials = over.pop("materials", [("摺頁", 100)])
    values.update(over)
    with office.db.unit_of_work() as uow:
        e = outreach.add_event(uow.session, office.id, office.users["social_staff"], materials=materials, **values)
        uow.commit()
        return e.id


def test_bad_event_values_are_refused_by_field_and_nothing_is_kept(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        outreach.add_event(uow.session, office.id, None, unit_id=-1, name=" ", held_on=None, place="",
                           topic="sports", audience="", male=-1, female="3")
    assert set(exc.value.errors) == {"unit_id", "name", "held_on", "place", "topic", "audience", "male", "female"}
    assert "0 到 100,000 的整數" in exc.value.errors["male"][0]
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        outreach.add_event(uow.session, office.id, None, unit_id=office.units["social"], name="x",
                           held_on=dt.date(2026, 3, 1), place="p", topic="cedaw", audience="a", male=0, female=0,
                           materials=[("海報", 0)])
    assert "第 1 項文宣" in exc.value.errors["materials.1"][0]
    with office.db.unit_of_work(write=False) as uow:
        assert outreach.events(uow.session, office.id, dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == []


def test_a_correction_is_recorded_with_before_and_after(office: OfficeFixture) -> None:
    eid = _event(office)
    with office.db.unit_of_work() as uow:
        outreach.update_event(uow.session, office.id, office.users["liaison"], eid, unit_id=office.units["social"],
                              name="婦女節宣導", held_on=dt.date(2026, 3, 8), place="中正公園", topic="gender_equality",
                              audience="區民", public=True, male=15, female=30, materials=[("摺頁", 120)])
        uow.commit()
    with office.db.unit_of_work(write=False) as uow:
        ev = uow.session.query(AdminEvent).filter_by(office_id=office.id, what="outreach.event.update").one()
    assert ev.actor_id == office.users["liaison"]
    assert (ev.data["before"]["male"], ev.data["after"]["male"]) == (12, 15)
    assert (ev.data["before"]["materials"], ev.data["after"]["materials"]) == ([["摺頁", 100]], [["摺頁", 120]])


def test_the_social_affairs_public_event_is_what_counts(office: OfficeFixture) -> None:
    _event(office, unit="civil")  # public, but not the social affairs section's
    _event(office, public=False, name="內部講座")
    with office.db.unit_of_work(write=False) as uow:
        check = outreach.year_check(uow.session, office.id, YEAR)
    assert (check.events, check.public_events, check.met) == (2, 0, False)
    _event(office, name="公開園遊會")
    with office.db.unit_of_work(write=False) as uow:
        check = outreach.year_check(uow.session, office.id, YEAR)
        assert outreach.year_check(uow.session, office.id, YEAR - 1).events == 0
    assert (check.events, check.public_events, check.met) == (3, 1, True)
    assert compliance_dict(office.db, office.id, YEAR)["outreach"] == {"events": 3, "met": True}


def test_photos_need_a_real_image_a_caption_and_alt_text(office: OfficeFixture) -> None:
    eid = _event(office)
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        outreach.add_photo(uow.session, office.id, None, eid, b"\xff\xd8\xff\xe0 not really a jpeg", caption="",
                           alt_text=" ")
    assert set(exc.value.errors) == {"photo", "caption", "alt_text"}
    assert "無法開啟" in exc.value.errors["photo"][0]
    with office.db.unit_of_work() as uow:
        p = outreach.add_photo(uow.session, office.id, None, eid, _png(), caption="園遊會攤位",
                               alt_text="民眾在攤位前填寫問卷")
        uow.commit()
        assert p.content_type == "image/png"
    with office.db.unit_of_work(write=False) as uow:
        rows = outreach.events(uow.session, office.id, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert [(e.id, mats, n) for e, _u, mats, n in rows] == [(eid, "摺頁 100 份", 1)]


def _items(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        s, actor = uow.session, office.users["accounting_staff"]
        budget.add_item(s, office.id, actor, roc_year=YEAR - 1, category=1, item="宣導活動",
                        unit_id=office.units["social"], budgeted=80_000, executed=76_500)
        budget.add_item(s, office.id, actor, roc_year=YEAR - 1, category=3, item="性別影響評估訓練",
                        unit_id=office.units["personnel"], budgeted=30_000, executed=None)
        budget.add_item(s, office.id, actor, roc_year=YEAR, category=1, item="宣導活動",
                        unit_id=office.units["social"], budgeted=90_000, executed=None)
        budget.add_item(s, office.id, actor, roc_year=YEAR, category=5, item="友善廁所",
                        unit_id=office.units["civil"], budgeted=250_000, executed=100_000)
        uow.commit()


def test_budget_items_are_checked_and_duplicates_named(office: OfficeFixture) -> None:
    _items(office)
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        budget.add_item(uow.session, office.id, None, roc_year=YEAR, category=6, item="", unit_id=-1,
                        budgeted=-5, executed=1.5)
    assert set(exc.value.errors) == {"category", "item", "unit_id", "budgeted", "executed"}
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        budget.add_item(uow.session, office.id, None, roc_year=YEAR, category=1, item="宣導活動",
                        unit_id=office.units["social"], budgeted=1)
    assert "已有「宣導活動」" in exc.value.errors["item"][0]
    with office.db.unit_of_work() as uow:
        rows = budget.items(uow.session, office.id, YEAR)
        budget.update_item(uow.session, office.id, office.users["liaison"], rows[0][0].id, executed=88_200)
        uow.commit()
    with office.db.unit_of_work(write=False) as uow:
        ev = uow.session.query(AdminEvent).filter_by(office_id=office.id, what="budget.item.update").one()
        t = budget.totals(budget.items(uow.session, office.id, YEAR))
    assert (ev.data["before"]["executed"], ev.data["after"]["executed"]) == (None, 88_200)
    assert (t.items, t.budgeted, t.executed, t.unreported) == (2, 340_000, 188_200, 0)
    assert compliance_dict(office.db, office.id, YEAR)["budget"] == {"items": 2, "budgeted": 340_000,
                                                                     "executed": 188_200}


def _fill_and_submit(office: OfficeFixture, kind: str, drafter: str, **case_kw: Any) -> tuple[int, int, dict[str, Any]]:
    cid = office.case(kind, drafter=drafter, **case_kw)
    with office.db.unit_of_work() as uow:
        c = uow.session.get_one(Case, cid)
        values = fill.fields_for(uow.session, kind, office.id, c.roc_year, c.period)
        c.fields = {**c.fields, **values}
        uow.commit()
    if kind == "outreach_report":  # needs its photo album
        drafts.add_attachment(cid, office.users[drafter], name="活動照片.png", content_type="image/png",
                              content=_png(), db=office.db)
    res = approval.fire(cid, "submit", office.users[drafter], db=office.db)
    return cid, res.event_seq, values


def test_the_budget_review_table_is_this_years_plan_and_last_years_execution(office: OfficeFixture) -> None:
    _items(office)
    cid, seq, values = _fill_and_submit(office, "budget_review", "accounting_staff", roc_year=YEAR)
    note = values["previous_year_note"]
    assert "114年度性別預算共 2 項，預算數 110,000 元，執行數 76,500 元（執行率 69.5%，1 項執行數尚未登錄）" in note
    assert "性別影響評估訓練（personnel）預算 30,000 元、執行數尚未登錄" in note  # the test office's unit names
    with office.db.unit_of_work(write=False) as uow:
        c = uow.session.get_one(Case, cid)
        table = build(uow.session, office.db, cid, "budget_review_table", seq)
    assert c.roc_year == YEAR  # (the fixture shifts yearly cases when several are opened)
    assert table["totals"] == {"budgeted": "340,000", "executed": "100,000", "rate": "29.4%"}
    assert [r["item"] for r in table["rows"]] == ["宣導活動", "友善廁所"]


def test_the_outreach_table_and_its_totals_come_from_the_events(office: OfficeFixture) -> None:
    _event(office, name="第一季活動", male=12, female=30)
    _event(office, name="第一季第二場", held_on=dt.date(2026, 2, 1), male=3, female=4, materials=[])
    _event(office, name="第二季活動", held_on=dt.date(2026, 4, 2), male=100, female=100)
    cid, seq, values = _fill_and_submit(office, "outreach_report", "social_staff", period="Q1")
    assert [e["event"] for e in values["events"]] == ["第一季第二場", "第一季活動"]
    with office.db.unit_of_work(write=False) as uow:
        table = build(uow.session, office.db, cid, "outreach_results", seq)
    assert table["totals"] == {"male": "15", "female": "34", "total": "49"}
    assert [r["materials"] for r in table["rows"]] == ["", "摺頁 100 份"]


def test_a_submitted_case_keeps_what_it_was_filled_with_when_the_register_changes(office: OfficeFixture) -> None:
    """The register is corrected after the report went out: the case, and a document rendered again
    from it, still say what was submitted; the register says what it says now."""
    eid = _event(office, name="第一季活動", male=12, female=30)
    cid, seq, values = _fill_and_submit(office, "outreach_report", "social_staff", period="Q1")
    with office.db.unit_of_work() as uow:
        outreach.update_event(uow.session, office.id, None, eid, **{
            **{k: getattr(uow.session.get_one(OutreachEvent, eid), k) for k in outreach.FIELDS}, "male": 50})
        uow.commit()
    _event(office, name="補登的第一季活動", held_on=dt.date(2026, 3, 20), male=1, female=1)
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(Case, cid).fields["events"] == values["events"]
        table = build(uow.session, office.db, cid, "outreach_results", seq)
        now = outreach.report_rows(uow.session, office.id, YEAR, "Q1")
    assert table["totals"] == {"male": "12", "female": "30", "total": "42"}
    assert [(r["event"], r["male"]) for r in now] == [("第一季活動", 50), ("補登的第一季活動", 1)]


def test_the_annual_table_counts_each_register_of_the_year_before(office: OfficeFixture) -> None:
    _event(office, held_on=dt.date(2026, 3, 8), male=12, female=30)
    _items(office)
    with office.db.unit_of_work(write=False) as uow:
        items = fill.annual_items(uow.session, office.id, YEAR)
    assert [i["item"] for i in items] == ["性別平等宣導", "性別預算"]
    assert (items[0]["male"], items[0]["female"]) == (12, 30)
    assert "編列 2 項，預算數 340,000 元，執行數 100,000 元（執行率 29.4%）" in items[1]["result"]


def _to_task_force(office: OfficeFixture) -> int:
    cid = office.case("training_report")
    for trigger, who in (("submit", "personnel_staff"), ("approve", "personnel_chief"), ("approve", "secretariat")):
        approval.fire(cid, trigger, office.users[who], db=office.db)
    return cid


def _seat(office: OfficeFixture, n: int) -> list[int]:
    with office.db.unit_of_work() as uow:
        ids = [task_force.add_member(uow.session, office.id, None, name=f"書審委員{i}", sex="FM"[i % 2], internal=True,
                                     role="convener" if i == 0 else "member", seat="unit_chief",
                                     term_start=dt.date(2026, 1, 1)).id for i in range(n)]
        uow.commit()
    return ids


def test_written_approval_by_n_of_m_members_approves_and_the_letter_says_so(office: OfficeFixture) -> None:
    ids = _seat(office, 5)
    cid = _to_task_force(office)
    today = clock.today()
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        written.record(uow.session, office.id, None, cid, ids[0], today)
    assert "本所未採書面審查" in exc.value.errors["member_id"][0]
    with office.db.unit_of_work() as uow:
        uow.session.get_one(Office, office.id).written_approval_min = 3
        uow.commit()
    for mid in ids[:2]:
        with office.db.unit_of_work() as uow:
            written.record(uow.session, office.id, office.users["liaison"], cid, mid, today)
            uow.commit()
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        written.record(uow.session, office.id, None, cid, ids[0], today)
    assert "已登錄過書面同意" in exc.value.errors["member_id"][0]
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        written.record(uow.session, office.id, None, cid, ids[2], today + dt.timedelta(days=1))
    assert "不可晚於今天" in exc.value.errors["approved_on"][0]
    with pytest.raises(ConditionFailed):  # two of the three needed
        approval.fire(cid, "approve", office.users["convener"], db=office.db)
    with office.db.unit_of_work() as uow:
        written.record(uow.session, office.id, office.users["liaison"], cid, ids[2], today)
        uow.commit()
    res = approval.fire(cid, "approve", office.users["convener"], db=office.db)
    approval.fire(cid, "file_with_city_group", office.users["liaison"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        c = uow.session.get_one(Case, cid)
        letter = build(uow.session, office.db, cid, "city_letter", c.history_seq)
    assert res.to_state == "approved"
    said = " ".join(e["text"] for e in letter["explanations"])
    assert "委員3人書面審查同意（在任委員5人" in said and "會議" not in said


def test_the_notice_is_dated_before_its_meeting_and_names_the_contact(office: OfficeFixture) -> None:
    _seat(office, 4)
    meeting_day = clock.today() + dt.timedelta(days=10)
    cid = office.case("task_force_meeting", drafter="secretariat_staff",
                      fields={"session_no": "第1次", "meeting_date": meeting_day.isoformat(), "place": "會議室",
                              "chair": "區長", "agenda": [{"section": "報告事項", "subject": "培力成果"}]})
    with office.db.unit_of_work() as uow:
        meetings.add_meeting(uow.session, office.id, None, kind="regular", held_on=meeting_day, place="第一會議室",
                             notice_on=meeting_day - dt.timedelta(days=8), contact_name="黃淑芬",
                             contact_phone="(03) 332-2101 轉 123", case_id=cid)
        uow.commit()
    res = approval.fire(cid, "submit", office.users["secretariat_staff"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        notice = build(uow.session, office.db, cid, "meeting_notice", res.event_seq)
    from workflow import rocdate

    assert notice["date_long"] == rocdate.long(meeting_day - dt.timedelta(days=8))
    assert (notice["contact_name"], notice["contact_phone"]) == ("黃淑芬", "(03) 332-2101 轉 123")
    assert notice["place"] == "第一會議室" and "書審委員0" in notice["attendees"]
    late = office.case("task_force_meeting", drafter="secretariat_staff",
                       fields={"session_no": "第2次", "meeting_date": clock.today().isoformat(), "place": "會議室",
                               "chair": "區長", "agenda": [{"section": "報告事項", "subject": "培力成果"}]})
    res = approval.fire(late, "submit", office.users["secretariat_staff"], db=office.db)
    with office.db.unit_of_work(write=False) as uow, pytest.raises(NoticeTooLate, match="不早於開會日期"):
        build(uow.session, office.db, late, "meeting_notice", res.event_seq)
