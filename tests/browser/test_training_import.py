"""The personnel office imports a training CSV with errors in a real browser, fixes it and imports it again."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import shot
from workflow.registers.training_import import Summary

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HEADER = "姓名,員工編號,單位,課程名稱,課程代碼,時數,上課方式,上課日期"
# Demo people (workflow/demo.py PEOPLE) with no training in the demo's register (TRAINING_CSV).
CIVIL_STAFF, ACCOUNTING_STAFF, ACCOUNTING_CHIEF = "李俊傑", "許文馨", "鄭國強"
UNKNOWN = "王小明"  # no one of the demo office has this name


def person_row(page: Page, name: str) -> Locator:
    return page.locator("table tbody tr").filter(has_text=name)


def hours_of(page: Page, name: str) -> list[str]:
    """性別主流化, CEDAW 實體 and 合計 hours as the page shows them for ``name``."""
    row = person_row(page, name)
    expect(row).to_have_count(1)
    return [row.locator("td").nth(i).inner_text().strip() for i in (2, 3, 4)]


def lead(page: Page) -> str:
    """The "N 人中 S 人未達。" part of the page's lead paragraph."""
    m = re.search(r"\d+ 人中 \d+ 人未達。", page.locator("p.lead").inner_text())
    assert m, page.locator("p.lead").inner_text()
    return m[0]


def exported(page: Page) -> list[list[str]]:
    """The rows of the page's CSV export, downloaded through its link."""
    with page.expect_download() as dl:
        page.get_by_role("link", name="匯出 CSV").click()
    rows = list(csv.reader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows and rows[0][0] == "姓名", rows[:1]
    return rows[1:]


def upload(page: Page, path: Path) -> None:
    page.get_by_label("培力紀錄 CSV 檔").set_input_files(str(path))
    with page.expect_navigation():
        page.get_by_role("button", name="匯入", exact=True).click()


def test_import_with_errors_then_fixed(login: Callable[[str], Page], tmp_path: Path) -> None:
    staff = login("personnel.staff")
    staff.get_by_role("navigation", name="主選單").get_by_role("link", name="培力紀錄").click()
    staff.wait_for_url(re.compile(r"/registers/training$"))
    heading = staff.get_by_role("heading", level=1).inner_text()
    m = re.search(r"民國 (\d{3}) 年", heading)
    assert m, heading
    year = int(m[1])  # the page's default: the current ROC year, the one the demo's register fills

    before_lead, before_export = lead(staff), exported(staff)
    assert before_export, "the demo's register should have rows this year"
    assert hours_of(staff, CIVIL_STAFF) == ["0", "0", "0"]
    expect(person_row(staff, CIVIL_STAFF)).to_contain_text("尚缺")

    bad = tmp_path / "training-bad.csv"
    bad.write_text("\n".join([
        HEADER,
        f"{CIVIL_STAFF},,民政課,CEDAW 直接與間接歧視案例研討,410,2,實體,{year}.03.12",
        f"{UNKNOWN},,會計室,性別影響評估實務,,3,線上,{year}.06.03",
        f"{ACCOUNTING_STAFF},,會計室,性別平等政策概論,,1.5,數位,{year}.02.30",
    ]) + "\n", encoding="utf-8")
    upload(staff, bad)
    errors = staff.locator("section[aria-labelledby=import-errors]")
    expect(errors.get_by_role("heading")).to_have_text("檔案有 2 處錯誤，沒有匯入任何資料")
    items = errors.locator("ol li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(f"第 3 列「姓名」：本所沒有名為「{UNKNOWN}」的同仁")
    expect(items.nth(1)).to_contain_text(f"第 4 列「上課日期」：沒有「{year}.02.30」這一天")
    expect(staff.locator(".flash-success")).to_have_count(0)
    shot(staff, "10-training-import-errors")

    # Nothing was imported, not even the good first row.
    assert hours_of(staff, CIVIL_STAFF) == ["0", "0", "0"]
    assert lead(staff) == before_lead
    assert exported(staff) == before_export

    # The fix: the right person's name on row 3, a real day (given as ISO this time) on row 4.
    good = tmp_path / "training-fixed.csv"
    good.write_text("\n".join([
        HEADER,
        f"{CIVIL_STAFF},,民政課,CEDAW 直接與間接歧視案例研討,410,2,實體,{year}.03.12",
        f"{ACCOUNTING_CHIEF},,會計室,性別影響評估實務,,3,線上,{year}.06.03",
        f"{ACCOUNTING_STAFF},,會計室,性別平等政策概論,,1.5,數位,{year + 1911}-02-28",
    ]) + "\n", encoding="utf-8")
    upload(staff, good)
    assert re.search(rf"/registers/training\?year={year}$", staff.url), staff.url
    expect(staff.locator(".flash-success")).to_have_text(Summary(imported=3, people=3, ignored_columns=()).line())
    expect(staff.locator("section[aria-labelledby=import-errors]")).to_have_count(0)
    assert hours_of(staff, CIVIL_STAFF) == ["2", "2", "2"]
    expect(person_row(staff, CIVIL_STAFF).locator("td").nth(5)).to_have_text("已達")
    assert hours_of(staff, ACCOUNTING_CHIEF) == ["3", "0", "3"]
    assert hours_of(staff, ACCOUNTING_STAFF) == ["1.5", "0", "1.5"]
    total, short = map(int, re.findall(r"\d+", before_lead))
    assert lead(staff) == f"{total} 人中 {short - 1} 人未達。"  # 李俊傑 now meets both thresholds
    shot(staff, "11-training-imported")

    after_export = exported(staff)
    assert len(after_export) == len(before_export) + 3
    assert [CIVIL_STAFF, "", "民政課", "CEDAW 直接與間接歧視案例研討", "410", "CEDAW", "2", "實體",
            f"{year}.03.12"] in after_export
    assert [r[-1] for r in after_export if r[0] == ACCOUNTING_STAFF] == [f"{year}.02.28"]

    # The records belong to that year: the next year's page (?year=) shows none of them.
    staff.goto(f"/registers/training?year={year + 1}")
    expect(staff.get_by_role("heading", level=1)).to_contain_text(f"民國 {year + 1} 年")
    assert hours_of(staff, CIVIL_STAFF) == ["0", "0", "0"]
