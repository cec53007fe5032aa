"""The training register: yearly compliance at the plan's thresholds exactly, and the CSV import:
encodings, columns in any order, how people are found, every kind of bad row (each with its
message, nothing imported), the ID number never stored, and export then import giving the same."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from tests.conftest import OfficeFixture
from workflow.models import AdminEvent, TrainingRecord, User
from workflow.registers import training, training_import
from workflow.registers.training_import import ImportRefused

HEADER = "姓名,課程名稱,時數,上課方式,上課日期,課程代碼,課程類別"


def _import(office: OfficeFixture, text: str, encoding: str = "utf-8") -> training_import.Summary:
    with office.db.unit_of_work() as uow:
        summary = training_import.import_csv(uow.session, office.id, None, text.encode(encoding))
        uow.commit()
        return summary


def _count(office: OfficeFixture) -> int:
    with office.db.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(TrainingRecord)
                                      .where(TrainingRecord.office_id == office.id)) or 0)


def _year(office: OfficeFixture, roc_year: int = 115) -> dict[str, training.PersonYear]:
    with office.db.unit_of_work(write=False) as uow:
        return {p.name: p for p in training.compliance(uow.session, office.id, roc_year)}


def test_the_thresholds_are_met_exactly_and_missed_by_half_an_hour(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == office.users["liaison"]).values(ge_staff=True))
        uow.commit()
    _import(office, "\n".join([
        HEADER,
        "personnel_staff,CEDAW 案例研討,1,實體,115.03.02,410,CEDAW",
        "personnel_staff,性別主流化工具,1,線上,115.04.10,,進階",
        "civil_staff,性別意識,1.5,數位,2026-05-01,,基礎",
        "civil_staff,CEDAW 線上課,1,線上,115.05.02,516,CEDAW",  # a CEDAW code, but not in person
        "liaison,性平研習,9,實體,115.06.01,411,CEDAW",
        "liaison,去年的課,5,實體,114.12.31,,基礎",  # another year
    ]))
    year = _year(office)
    staff, civil, liaison = year["personnel_staff"], year["civil_staff"], year["liaison"]
    assert (staff.gm_hours, staff.cedaw_hours, staff.met, staff.should_advance) == (2, 1, True, False)
    assert (civil.gm_hours, civil.cedaw_hours, civil.met) == (2.5, 0, False)
    assert [zh for zh, _en in civil.missing] == ["CEDAW 實體課程尚缺 1 小時"] and civil.should_advance
    assert liaison.total_hours == 9 and [zh for zh, _en in liaison.missing] == [
        "性別平等業務相關人員全年 10 小時，尚缺 1 小時"]
    nobody = year["nobody"]
    assert [zh for zh, _en in nobody.missing] == ["性別主流化課程尚缺 2 小時", "CEDAW 實體課程尚缺 1 小時"]
    _import(office, HEADER + "\nliaison,補課,1,實體,115.07.01,,進階")
    assert _year(office)["liaison"].met


def test_people_who_joined_this_year_are_shown_as_such(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == office.users["civil_staff"])
                            .values(joined_on=dt.date(2026, 6, 1)))
        uow.commit()
    year = _year(office)
    assert year["civil_staff"].joined == dt.date(2026, 6, 1) and year["personnel_staff"].joined is None
    assert "civil_staff" not in _year(office, 114)  # not yet here in 114
    assert year["personnel_staff"].joined is None and "personnel_staff" in _year(office, 114)  # no day: all along


def test_the_hours_bind_civil_servants_only(office: OfficeFixture) -> None:
    """An external task force member or a system account logs in but owes no training hours; a
    person whose account was made today is not taken for someone who joined today."""
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == office.users["admin"]).values(civil_servant=False))
        uow.commit()
    year = _year(office)
    assert "admin" not in year and "liaison" in year
    assert all(p.joined is None for p in year.values())


def test_columns_in_any_order_bom_big5_and_the_id_number_never_stored(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == office.users["social_staff"]).values(employee_no="A0012"))
        uow.commit()
    text = ("上課日期,身分證字號,員工編號,時數,課程名稱,上課方式,姓名\n"
            "115.04.10,A123456789,A0012,2,性別平等概論,實體,\n")
    summary = _import(office, "\ufeff" + text)
    assert (summary.imported, summary.ignored_columns) == (1, ("身分證字號",))
    assert "已略過欄位「身分證字號」（不儲存）" in summary.line()
    big5 = "姓名,課程名稱,時數,上課方式,上課日期\ncivil_staff,多元性別權益,1,實體,115.04.11\n"
    assert _import(office, big5, "cp950").imported == 1
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        stored = s.execute(select(TrainingRecord.user_id, TrainingRecord.course)
                           .where(TrainingRecord.office_id == office.id).order_by(TrainingRecord.id)).all()
        logged = [e.data for e in s.query(AdminEvent).filter_by(office_id=office.id, what="training.import")]
    assert stored == [(office.users["social_staff"], "性別平等概論"), (office.users["civil_staff"], "多元性別權益")]
    assert "A123456789" not in repr(logged)


BAD_ROWS = [
    ("nosuch,課程,1,實體,115.04.10,,", "姓名", "本所沒有名為「nosuch」的同仁"),
    ("civil_staff,課程,-1,實體,115.04.10,,", "時數", "時數「-1」不正確"),
    ("civil_staff,課程,25,實體,115.04.10,,", "時數", "時數「25」不正確"),
    ("civil_staff,課程,1.25,實體,115.04.10,,", "時數", "最多一位小數"),
    ("civil_staff,課程,1,面授,115.04.10,,", "上課方式", "請填實體、線上或數位"),
    ("civil_staff,課程,1,實體,115.02.30,,", "上課日期", "沒有「115.02.30」這一天"),
    ("civil_staff,課程,1,實體,明天,,", "上課日期", "請填民國日期"),
    ("civil_staff,課程,1,實體,115.04.10,999,", "課程代碼", "課程代碼「999」不在終身學習課程代碼表"),
    ("civil_staff,課程,1,實體,115.04.10,,高階", "課程類別", "請填基礎、進階或 CEDAW"),
    ("civil_staff,,1,實體,115.04.10,,", "課程名稱", "請填課程名稱"),
]


@pytest.mark.parametrize(("row", "column", "message"), BAD_ROWS)
def test_each_bad_row_says_what_is_wrong_and_nothing_is_imported(office: OfficeFixture, row: str, column: str,
                                                                 message: str) -> None:
    good = "personnel_staff,好課程,2,實體,115.04.10,,"
    with pytest.raises(ImportRefused) as exc:
        _import(office, "\n".join([HEADER, good, row, good.replace("好課程", "另一課程")]))
    [error] = exc.value.errors
    assert (error.row, error.column) == (3, column) and message in error.message, error
    assert _count(office) == 0


def test_duplicates_in_the_file_and_in_the_register_and_missing_columns(office: OfficeFixture) -> None:
    row = "personnel_staff,好課程,2,實體,115.04.10,,"
    with pytest.raises(ImportRefused) as exc:
        _import(office, "\n".join([HEADER, row, row]))
    assert [(e.row, e.message) for e in exc.value.errors] == [(3, "與第 2 列重複（同一人、同一課程、同一天）")]
    _import(office, "\n".join([HEADER, row]))
    with pytest.raises(ImportRefused) as exc:
        _import(office, "\n".join([HEADER, row]))
    assert "已經在登錄簿中" in exc.value.errors[0].message
    with pytest.raises(ImportRefused) as exc:
        _import(office, "姓名,課程名稱,時數\npersonnel_staff,課,1")
    assert "缺少欄位「上課方式、上課日期」" in exc.value.errors[0].message
    with pytest.raises(ImportRefused) as exc:
        training_import.decode(b"\xff\xfe\x00\x00garbage\x81\xff")
    assert "UTF-8 或 Big5" in exc.value.errors[0].message
    assert _count(office) == 1


def test_a_shared_name_is_told_apart_by_unit(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id.in_([office.users["civil_staff"], office.users["social_staff"]]))
                            .values(display_name="王小明"))
        uow.commit()
    with pytest.raises(ImportRefused) as exc:
        _import(office, "姓名,課程名稱,時數,上課方式,上課日期\n王小明,課,1,實體,115.04.10")
    assert "本所有 2 位「王小明」" in exc.value.errors[0].message
    _import(office, "姓名,單位,課程名稱,時數,上課方式,上課日期\n王小明,social,課,1,實體,115.04.10")
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(TrainingRecord.user_id).where(
            TrainingRecord.office_id == office.id)) == office.users["social_staff"]


def test_export_then_import_gives_the_same_register(office: OfficeFixture) -> None:
    from web.exports import export

    _import(office, "\n".join([HEADER, "personnel_staff,CEDAW 案例研討,1.5,實體,115.03.02,410,CEDAW",
                               "civil_staff,性別主流化工具,2,線上,115.04.10,,進階"]))
    with office.db.unit_of_work(write=False) as uow:
        before = training_import.export_rows(uow.session, office.id, 115)
    content = export("csv", "培力", training_import.EXPORT_HEADER, before)
    with office.db.unit_of_work() as uow:
        uow.session.query(TrainingRecord).filter_by(office_id=office.id).delete()
        uow.commit()
    with office.db.unit_of_work() as uow:
        training_import.import_csv(uow.session, office.id, None, content)
        uow.commit()
    with office.db.unit_of_work(write=False) as uow:
        assert training_import.export_rows(uow.session, office.id, 115) == before
