"""The task force register: the one-third rule and the 40% target at their boundaries, members
leaving, the liaison's rank, meetings' quorum and decisions by a majority of those present."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from tests.conftest import OfficeFixture
from workflow import clock
from workflow.cases import approval
from workflow.errors import ValidationError
from workflow.models import AdminEvent
from workflow.registers import meetings, task_force
from workflow.registers.task_force import composition

TODAY = dt.date(2026, 4, 20)


@dataclass(frozen=True)
class M:
    sex: str


@pytest.mark.parametrize(("n", "min_per_sex", "target_per_sex"), [
    (7, 3, 3), (9, 3, 4), (10, 4, 4), (11, 4, 5), (12, 4, 5)])
def test_one_third_and_forty_percent_at_each_size(n: int, min_per_sex: int, target_per_sex: int) -> None:
    for women in range(n + 1):
        c = composition([M("F")] * women + [M("M")] * (n - women))
        assert (c.min_per_sex, c.target_per_sex) == (min_per_sex, target_per_sex)
        assert c.rule_met == (min(women, n - women) >= min_per_sex), (n, women)
        assert c.target_met == (min(women, n - women) >= target_per_sex), (n, women)
        assert (c.shortfall() is None) == c.rule_met


def test_the_shortfall_says_how_many_of_which_sex_are_missing() -> None:
    c = composition([M("M")] * 9 + [M("F")] * 2)  # 11 members: at least 4 of each
    zh, en = c.shortfall() or ("", "")
    assert "尚缺女性 2 人" in zh and "11 人中每一性別至少 4 人" in zh and "2 more women" in en
    assert composition([]).shortfall() == ("專案小組目前沒有在任委員", "the task force has no members in office")


def _seat(office: OfficeFixture, women: int, men: int, start: dt.date = dt.date(2026, 1, 1)) -> list[int]:
    ids = []
    with office.db.unit_of_work() as uow:
        for i in range(women + men):
            sex = "F" if i < women else "M"
            m = task_force.add_member(uow.session, office.id, office.users["admin"], name=f"委員{i + 1}", sex=sex,
                                      internal=i % 2 == 0, role="convener" if i == 0 else "member",
                                      seat="unit_chief" if i % 2 == 0 else "external_civil", term_start=start)
            ids.append(m.id)
        uow.commit()
    return ids


def test_a_member_leaving_breaks_the_rule_from_the_next_day(office: OfficeFixture) -> None:
    ids = _seat(office, women=4, men=7)
    with office.db.unit_of_work() as uow:
        s = uow.session
        assert composition(task_force.in_office(s, office.id, TODAY)).rule_met
        task_force.end_term(s, office.id, office.users["admin"], ids[0], TODAY)
        uow.commit()
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        assert composition(task_force.in_office(s, office.id, TODAY)).rule_met  # still in office that day
        after = composition(task_force.in_office(s, office.id, TODAY + dt.timedelta(days=1)))
        assert (after.members, after.women, after.rule_met) == (10, 3, False)
        logged = [e.what for e in s.query(AdminEvent).filter_by(office_id=office.id)]
        assert logged.count("task_force.member.add") == 11 and "task_force.member.end" in logged


def test_bad_member_values_are_refused_by_field(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        task_force.add_member(uow.session, office.id, None, name=" ", sex="X", internal=True, role="chair",
                              seat="external_city", term_start=TODAY, term_end=TODAY - dt.timedelta(days=1))
    assert set(exc.value.errors) == {"name", "sex", "role", "seat", "term_end"}


def test_the_liaison_rank_is_checked_from_the_title(office: OfficeFixture) -> None:
    from workflow.models import User

    with office.db.unit_of_work() as uow:
        s = uow.session
        u = s.get(User, office.users["liaison"])
        assert u is not None
        u.title = "科員"
        uow.commit()
        check = task_force.liaison(s, office.id, clock.today())
        assert check.name == u.display_name and not check.rank_ok
        u.title = "民政課課長"
        uow.commit()
        assert task_force.liaison(s, office.id, clock.today()).rank_ok


def _meeting(office: OfficeFixture, present: int, *, proxies: int = 0, members: int = 10) -> int:
    ids = _seat(office, women=members // 2, men=members - members // 2)
    with office.db.unit_of_work() as uow:
        m = meetings.add_meeting(uow.session, office.id, office.users["secretariat"], kind="regular",
                                 held_on=TODAY, place="第一會議室", notice_on=TODAY - dt.timedelta(days=7))
        marks = {mid: ("present", "") for mid in ids[:present]}
        marks |= {mid: ("proxy", "代理人") for mid in ids[present:present + proxies]}
        marks |= {mid: ("excused", "") for mid in ids[present + proxies:]}
        meetings.record_attendance(uow.session, office.id, None, m.id, marks)
        uow.commit()
        return m.id


@pytest.mark.parametrize(("present", "proxies", "met"), [(5, 0, False), (6, 0, True), (5, 1, True), (4, 1, False)])
def test_quorum_is_more_than_half_of_the_members_in_office(office: OfficeFixture, present: int, proxies: int,
                                                           met: bool) -> None:
    mid = _meeting(office, present, proxies=proxies)
    with office.db.unit_of_work(write=False) as uow:
        from workflow.models import TaskForceMeeting

        q = meetings.quorum(uow.session, uow.session.get_one(TaskForceMeeting, mid))
    assert (q.in_office, q.present, q.needed, q.met) == (10, present + proxies, 6, met)


def _to_task_force(office: OfficeFixture) -> int:
    cid = office.case("training_report")
    u = office.users
    for trigger, who in [("submit", "personnel_staff"), ("approve", "personnel_chief"), ("approve", "secretariat")]:
        approval.fire(cid, trigger, u[who], db=office.db)
    return cid


def test_a_decision_needs_a_quorate_held_meeting_and_a_majority_of_those_present(office: OfficeFixture) -> None:
    cid = _to_task_force(office)
    with time_machine.travel(dt.datetime(2026, 4, 21, 10, tzinfo=clock.TAIPEI), tick=False):
        short = _meeting(office, present=5, members=10)  # exactly half: no quorum
        with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
            meetings.decide(uow.session, office.id, None, short, cid, decision="passed", votes_for=5)
        assert "未達法定人數" in exc.value.errors["meeting"][0]
    with time_machine.travel(dt.datetime(2026, 4, 21, 11, tzinfo=clock.TAIPEI), tick=False), \
            office.db.unit_of_work() as uow:
        s = uow.session
        m = meetings.add_meeting(s, office.id, None, kind="adhoc", held_on=TODAY, place="會議室")
        present = [x.id for x in task_force.in_office(s, office.id, TODAY)][:6]
        meetings.record_attendance(s, office.id, None, m.id, {i: ("present", "") for i in present})
        uow.commit()
        for votes in (3, 7):  # a tie of 6 present, and more votes than people present
            with pytest.raises(ValidationError) as exc:
                meetings.decide(s, office.id, None, m.id, cid, decision="passed", votes_for=votes)
            assert "過半數" in exc.value.errors["votes_for"][0]
        meetings.decide(s, office.id, None, m.id, cid, decision="amended", votes_for=4)
        uow.commit()
        since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        ref = meetings.approving_decision(s, cid, "training_report", since)
        assert ref is not None and (ref.number, ref.held_on, ref.decision) == (m.number, TODAY, "amended")


def test_a_meeting_in_the_future_decides_nothing(office: OfficeFixture) -> None:
    cid = _to_task_force(office)
    ids = _seat(office, 3, 3)
    with office.db.unit_of_work() as uow:
        s = uow.session
        m = meetings.add_meeting(s, office.id, None, kind="regular", held_on=clock.today() + dt.timedelta(days=3),
                                 place="會議室")
        meetings.record_attendance(s, office.id, None, m.id, {i: ("present", "") for i in ids})
        with pytest.raises(ValidationError) as exc:
            meetings.decide(s, office.id, None, m.id, cid, decision="passed", votes_for=6)
        assert "尚未召開" in exc.value.errors["meeting"][0]


def test_a_notice_after_the_meeting_is_refused(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow, pytest.raises(ValidationError) as exc:
        meetings.add_meeting(uow.session, office.id, None, kind="regular", held_on=TODAY, place="會議室",
                             notice_on=TODAY)
    assert "之前" in exc.value.errors["notice_on"][0]


def test_the_task_force_approves_only_what_a_meeting_passed_and_the_letter_cites_that_meeting(
        office: OfficeFixture) -> None:
    from documents.context import build
    from tests.helpers import task_force_passes
    from workflow.errors import ConditionFailed
    from workflow.models import HistoryEvent

    cid = _to_task_force(office)
    with pytest.raises(ConditionFailed) as exc:
        approval.approve(cid, office.users["convener"], db=office.db)
    assert exc.value.condition == "task_force_decided" and "尚無專案小組的決議" in exc.value.message
    task_force_passes(office.db, office.id, cid)
    approval.approve(cid, office.users["convener"], db=office.db)
    res = approval.fire(cid, "file_with_city_group", office.users["liaison"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        [approved] = [e for e in s.query(HistoryEvent).filter_by(case_id=cid, trigger="approve")
                      if e.from_state == "task_force_review"]
        ref = approved.data["task_force_decision"]
        letter = build(s, office.db, cid, "city_letter", res.event_seq)
    held = rocdate_long(ref["held_on"])
    sentence = f"本案業經本所性別平等專案小組第{ref['number']}次會議審議通過（{held}）。"
    assert sentence in [e["text"] for e in letter["explanations"]]


def test_a_returned_decision_or_one_from_before_a_revision_approves_nothing(office: OfficeFixture) -> None:
    from tests.helpers import task_force_passes
    from workflow.errors import ConditionFailed

    cid = _to_task_force(office)
    task_force_passes(office.db, office.id, cid)
    approval.return_for_revision(cid, office.users["convener"], "請補正", db=office.db)
    for trigger, who in [("submit", "personnel_staff"), ("approve", "personnel_chief"), ("approve", "secretariat")]:
        approval.fire(cid, trigger, office.users[who], db=office.db)
    with pytest.raises(ConditionFailed):  # the earlier meeting decided the earlier version
        approval.approve(cid, office.users["convener"], db=office.db)


def rocdate_long(iso: str) -> str:
    from workflow import rocdate

    return rocdate.long(dt.date.fromisoformat(iso))


def test_the_minutes_state_who_attended_by_name_seat_and_sex_and_what_the_meeting_decided(
        office: OfficeFixture) -> None:
    from documents.context import build

    agenda = _to_task_force(office)
    mcase = office.case("task_force_meeting")
    for trigger, who in [("submit", "secretariat_staff"), ("approve", "secretariat_chief"),
                         ("approve", "secretariat")]:
        approval.fire(mcase, trigger, office.users[who], db=office.db)
    ids = _seat(office, women=3, men=4, start=dt.date(2025, 1, 1))
    with office.db.unit_of_work() as uow:
        s = uow.session
        m = meetings.add_meeting(s, office.id, None, kind="regular", held_on=clock.today(), place="第二會議室",
                                 case_id=mcase)
        marks = {i: ("present", "") for i in ids} | {ids[1]: ("excused", ""), ids[2]: ("proxy", "王代理")}
        meetings.record_attendance(s, office.id, None, m.id, marks)
        meetings.decide(s, office.id, None, m.id, agenda, decision="amended", votes_for=4)
        uow.commit()
        number = m.number
    res = approval.approve(mcase, office.users["convener"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        minutes = build(uow.session, office.db, mcase, "meeting_minutes", res.event_seq)
    assert minutes["session_no"] == f"第{number}次" and minutes["place"] == "第二會議室"
    assert "委員1（召集人・課室主管・女）" in minutes["attendees"]  # _seat: the first is the convener
    assert "委員3（委員・課室主管・女）由王代理代理" in minutes["attendees"]
    assert "（出席 6 人：女 2 人、男 4 人，外聘 2 人；在任委員 7 人）" in minutes["attendees"]
    assert minutes["absent"] == "委員2（委員・外聘（民間）・女）"
    [decided] = minutes["discussions"]
    assert decided["outcome"] == "修正後通過（出席委員 6 人，同意 4 人）"
