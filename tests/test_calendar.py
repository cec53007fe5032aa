"""The plan's calendar with a controlled clock: working days, due dates, generating a year, step
deadlines that stop while a case is returned."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import func, select

from caseflow.cli import main as cli
from tests.conftest import OfficeFixture
from workflow import clock
from workflow.calendar import deadlines, plan, workdays
from workflow.cases import approval, drafts
from workflow.db import Database
from workflow.errors import ValidationError
from workflow.models import Case, HistoryEvent, OfficeClosure

TAIPEI = clock.TAIPEI


def at(y: int, m: int, d: int, h: int = 9) -> dt.datetime:
    return dt.datetime(y, m, d, h, 0, tzinfo=TAIPEI)


def test_a_whole_year_of_working_days() -> None:
    cal = workdays.WorkCalendar()
    tw = holidays.TW(years=2026)
    day, working = dt.date(2026, 1, 1), 0
    while day.year == 2026:
        expected = day in tw.weekend_workdays or (day.weekday() < 5 and day not in tw)
        assert cal.is_working_day(day) is expected, day
        working += expected
        day += dt.timedelta(days=1)
    assert 240 <= working <= 252
    assert not cal.is_working_day(dt.date(2026, 1, 1))  # 開國紀念日
    assert not any(cal.is_working_day(dt.date(2026, 2, d)) for d in range(16, 21))  # 春節
    assert not cal.is_working_day(dt.date(2026, 10, 10))
    assert cal.first_working_day(2026) == dt.date(2026, 1, 2)


def test_a_make_up_saturday_counts_as_a_working_day() -> None:
    cal = workdays.WorkCalendar()
    assert dt.date(2024, 2, 17).weekday() == 5
    assert cal.is_working_day(dt.date(2024, 2, 17))  # 補班
    assert cal.add_working_days(dt.date(2024, 2, 16), 1) == dt.date(2024, 2, 17)
    assert cal.next_working_day(dt.date(2024, 2, 17)) == dt.date(2024, 2, 17)


def test_working_days_between_counts_as_walking_day_by_day() -> None:
    """The counting tables give what walking the calendar one day at a time gives, across year
    ends, make-up Saturdays and closure days (a closure on a weekend changes nothing)."""
    closures = [dt.date(2024, 2, 17), dt.date(2025, 7, 25), dt.date(2025, 7, 26), dt.date(2026, 4, 10)]
    cal = workdays.WorkCalendar(closures)

    def walked(start: dt.date, end: dt.date) -> int:
        return sum(1 for i in range(1, (end - start).days + 1)
                   if cal.is_working_day(start + dt.timedelta(days=i)))

    starts = [dt.date(2023, 12, 20), dt.date(2024, 2, 16), dt.date(2025, 7, 24), dt.date(2025, 12, 31),
              dt.date(2026, 4, 9)]
    for start in starts:
        for days in (0, 1, 2, 9, 45, 200, 400, 800):
            end = start + dt.timedelta(days=days)
            assert cal.working_days_between(start, end) == walked(start, end), (start, end)
    assert cal.working_days_between(dt.date(2026, 4, 9), dt.date(2026, 4, 10)) == 0  # closed that day
    assert workdays.WorkCalendar().working_days_between(dt.date(2026, 4, 9), dt.date(2026, 4, 10)) == 1
    assert cal.working_days_between(dt.date(2026, 4, 10), dt.date(2026, 4, 9)) == 0


def test_a_deadline_on_the_lunar_new_year_moves_to_the_next_working_day() -> None:
    ob = plan.Obligation("training_report", "Q1", "personnel", "{year}", 2, 16, 0, "", "")
    assert ob.nominal_due(115) == dt.date(2026, 2, 16)
    assert ob.due_date(115, workdays.WorkCalendar()) == dt.date(2026, 2, 23)


def test_quarterly_reports_are_due_on_the_10th_or_the_next_working_day(db: Database) -> None:
    with db.unit_of_work(write=False) as uow:
        obs = {(o.kind, o.period): o for o in plan.obligations(uow.session, 115)}
    cal = workdays.WorkCalendar()
    training = [obs[("training_report", q)].due_date(115, cal) for q in ("Q1", "Q2", "Q3", "Q4")]
    # 2026-04-10 Fri; 2026-07-10 Fri; 2026-10-10 national day (Sat) -> Mon 12th; 2027-01-10 Sun -> Mon 11th
    assert training == [dt.date(2026, 4, 10), dt.date(2026, 7, 10), dt.date(2026, 10, 12), dt.date(2027, 1, 11)]
    assert len(obs) == 14


def test_an_office_closure_day_counts(db: Database, office: OfficeFixture) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(OfficeClosure(office_id=office.id, day=dt.date(2026, 4, 10), reason="颱風停班"))
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        assert plan.due_date_for(uow.session, office.id, "training_report", 115, "Q1") == dt.date(2026, 4, 13)
        cal = workdays.for_office(uow.session, office.id)
    assert not cal.is_working_day(dt.date(2026, 4, 10))
    with db.unit_of_work(write=False) as uow:  # another office is not closed that day
        assert plan.due_date_for(uow.session, office.id + 10_000, "training_report", 115, "Q1") == dt.date(2026, 4, 10)


def _count(db: Database, office_id: int, year: int) -> int:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(Case).where(
            Case.office_id == office_id, Case.roc_year == year)) or 0


def test_generating_a_year_twice_creates_the_cases_once(db: Database, office: OfficeFixture) -> None:
    first = plan.generate(db, 115, office_codes=[office.code])
    assert len(first[0].created) == 14 and first[0].existing == 0
    again = plan.generate(db, 115, office_codes=[office.code])
    assert again[0].created == [] and again[0].existing == 14
    assert _count(db, office.id, 115) == 14
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(Case.kind, Case.period, Case.due_date, Case.drafter_id, Case.title)
                                   .where(Case.office_id == office.id, Case.roc_year == 115)).all()
        created = uow.session.scalar(select(func.count()).select_from(HistoryEvent).where(
            HistoryEvent.case_id.in_(first[0].created), HistoryEvent.event == "created"))
    due = {(k, p): d for k, p, d, _dr, _t in rows}
    assert due[("training_report", "Q4")] == dt.date(2027, 1, 11)
    assert due[("task_force_meeting", "Y")] == dt.date(2026, 4, 30)
    assert all(dr is None for *_x, dr, _t in rows)  # opened by the plan calendar, not a person
    assert "115年第1季培力成果報告" in {t for *_x, t in rows}
    assert created == 14


def test_the_database_key_refuses_a_second_case_for_the_same_period(db: Database, office: OfficeFixture) -> None:
    plan.generate(db, 114, office_codes=[office.code])
    with pytest.raises(ValidationError):
        drafts.create_case(kind="training_report", unit_id=office.units["personnel"], roc_year=114,
                           period="Q1", title="again", actor=None, db=db)


def test_a_year_outside_the_plan_is_refused_naming_the_period(db: Database, office: OfficeFixture) -> None:
    with pytest.raises(ValidationError) as err:
        plan.generate(db, 116, office_codes=[office.code])
    assert "112-115" in err.value.message and "112-115" in err.value.message_en


def test_cli_generates_once_and_refuses_other_years(db: Database, office: OfficeFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db.url)
    runner = CliRunner()
    out = runner.invoke(cli, ["plan", "generate", "--year", "113", "--office", office.code])
    assert out.exit_code == 0, out.output
    assert "14 created" in out.output
    out = runner.invoke(cli, ["plan", "generate", "--year", "113", "--office", office.code])
    assert "0 created, 14 already there" in out.output
    out = runner.invoke(cli, ["plan", "generate", "--year", "111", "--all"])
    assert out.exit_code == 2 and "112-115" in out.output
    assert _count(db, office.id, 113) == 14


def test_the_beat_task_generates_on_the_first_working_day(db: Database) -> None:
    assert plan.first_working_day_due(db, dt.date(2026, 1, 1)) is None  # a holiday
    assert plan.first_working_day_due(db, dt.date(2026, 1, 2)) == 115
    assert plan.first_working_day_due(db, dt.date(2027, 1, 4)) is None  # 116 is not in the plan


def _deadline(db: Database, case_id: int) -> deadlines.StepDeadline | None:
    with db.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, case_id)
        assert case is not None
        return deadlines.step_deadline(uow.session, case)


def test_the_chiefs_clock_stops_while_the_case_is_returned(db: Database, office: OfficeFixture) -> None:
    staff, chief = office.users["personnel_staff"], office.users["personnel_chief"]
    with time_machine.travel(at(2026, 3, 2), tick=False):  # Monday
        cid = office.case("training_report")
        approval.submit(cid, staff, db=db)
        d = _deadline(db, cid)
        assert d is not None and d.state == "section_review" and d.limit_days == 5
        assert d.deadline == dt.date(2026, 3, 9)
    with time_machine.travel(at(2026, 3, 4), tick=False):  # two working days used
        approval.return_for_revision(cid, chief, "請補正", db=db)
        d = _deadline(db, cid)
        assert d is not None and d.stopped and d.deadline is None and d.used_days == 2
        assert d.stopped_since == dt.date(2026, 3, 4)
    with time_machine.travel(at(2026, 3, 16), tick=False):  # nine working days later: not counted
        assert not d.overdue(clock.today())
        approval.submit(cid, staff, db=db)
        d = _deadline(db, cid)
        assert d is not None and not d.stopped
        assert d.deadline == dt.date(2026, 3, 19)  # the 3 working days left
    with db.unit_of_work(write=False) as uow:
        triggers = uow.session.scalars(select(HistoryEvent.trigger).where(HistoryEvent.case_id == cid)
                                       .order_by(HistoryEvent.seq)).all()
    assert triggers == [None, "submit", "return_for_revision", "submit"]  # the history shows the stop


def test_secretariat_limit_and_task_force_until_the_next_meeting(db: Database, office: OfficeFixture) -> None:
    with time_machine.travel(at(2026, 4, 1), tick=False):
        meeting = office.case("task_force_meeting")  # sample fields: meeting on 2026-04-20
        cid = office.case("training_report")
        approval.submit(cid, office.users["personnel_staff"], db=db)
        approval.approve(cid, office.users["personnel_chief"], db=db)
        d = _deadline(db, cid)
        # 3 working days after Wed 1 April: 2 Apr, then 3 and 6 Apr are holidays (兒童節/清明 observed)
        assert d is not None and d.state == "secretariat_review" and d.deadline == dt.date(2026, 4, 8)
        approval.approve(cid, office.users["secretariat"], db=db)
        d = _deadline(db, cid)
        assert d is not None and d.limit_days is None and d.deadline == dt.date(2026, 4, 20)
    assert meeting


def test_a_draft_is_its_drafters_only_while_they_can_still_work_on_it(office: OfficeFixture) -> None:
    """Who holds a draft (the board's 承辦, the reminders' recipients): its drafter; once they can no
    longer submit it (here: deactivated; a unit move or an ended role is the same), the unit's other
    drafters, not someone who can do nothing about it."""
    from sqlalchemy import update

    from workflow.engine import registry
    from workflow.models import User
    from workflow.people import holders

    cid = office.case("training_report")  # drafted by personnel_staff
    defn = registry.default().latest("training_report")

    def holding() -> list[int]:
        with office.db.unit_of_work(write=False) as uow:
            s = uow.session
            c = s.get(Case, cid)
            assert c is not None
            roles = holders.office_roles(s, [office.id], clock.today())[office.id]
            return holders.holders(defn, c.state, c.unit_id, c.drafter_id, roles)

    assert holding() == [office.users["personnel_staff"]]
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == office.users["personnel_staff"]).values(active=False))
        uow.commit()
    assert holding() == [office.users["personnel_staff2"]]


def test_the_on_time_chart_names_the_months_cases_fell_due_in(office: OfficeFixture) -> None:
    """The first-quarter report falls due in April: its bar is 115.04-06, not a '115Q2' that reads
    as the second quarter's reports."""
    from sqlalchemy import update

    from workflow.views import board

    cid = office.case("training_report", period="Q1", roc_year=115)
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(Case).where(Case.id == cid).values(due_date=dt.date(2026, 4, 10)))
        uow.commit()
    with office.db.unit_of_work(write=False) as uow:
        rates = board._on_time(uow.session, office.id, dt.date(2026, 11, 28))
    assert [r.label for r in rates] == ["115.04-06"]
