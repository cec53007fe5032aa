"""Personal identifiers that must not appear in public text or file names (個資法): Taiwan national ID
and resident certificate numbers with a valid check digit, phone numbers, e-mail addresses, and
dates of birth (a date next to 出生/生日, or next to a person's name and decades old).

Tuned to leave ordinary public text alone: dates, amounts, counts, document numbers (第…號) and
codes labelled as such (課程代碼, 編號) are not flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Letter -> two-digit code of the national ID scheme (A=10 … Z=33; I, O, W, X, Y, Z out of order).
_LETTER = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_ID = re.compile(r"(?<![A-Za-z0-9])([A-Za-z])([1289])(\d{8})(?![0-9])")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_B = r"(?<![A-Za-z0-9\-./])"  # not inside a longer code or number
_E = r"(?![0-9A-Za-z]|-\d|\.\d)"
_PHONE = re.compile(
    _B + r"(?:"
    r"(?:\+886[-\s]?|\(?0)9\d{2}\)?[-\s.]?\d{3}[-\s.]?\d{3}"  # mobile 0912-345-678, +886 912 345 678
    r"|\+886[-\s]?\(?[2-8]\d{0,2}\)?[-\s]?\d{3,4}[-\s]?\d{4}"  # +886 3 332 2101
    r"|\(0[2-8]\d{0,2}\)\s?\d{3,4}[-\s]?\d{4}"  # (03)332-2101
    r"|0[2-8]\d{0,2}-\d{3,4}-?\d{4}"  # 03-3322101
    r"|0[2-8]\d{7,8}"  # 0333221010
    r")" + _E
)
# What makes a run of digits a code rather than a phone number: a label just before, 第…號 around.
_CODE_LABEL = re.compile(r"(代碼|代號|編號|字號|文號|課號|序號|統一編號|統編|code|No\.?|#)\s*[:：]?\s*$", re.IGNORECASE)
_DATE = re.compile(
    r"(?<!\d)(?:(?P<y>(?:19|20)\d{2}|\d{2,3})\s*[./\-年]\s*(?P<m>\d{1,2})\s*[./\-月]\s*(?P<d>\d{1,2})\s*日?)(?!\d)"
)
_BIRTH_BEFORE = re.compile(r"(出生|生日|生於|出生日期|出生年月日|DOB|date of birth|born( on)?)\s*[:：]?\s*$",
                           re.IGNORECASE)
_BIRTH_AFTER = re.compile(r"^\s*(生|出生)")
# Common single-character surnames: a name is one of these and one or two more characters.
_SURNAMES = ("陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏"
             "孫戴范方宋鄧杜傅侯曹薛丁卓阮馬董温唐藍石蔣古紀姚連馮歐程湯黃田康姜白汪鄒尤巫鐘黎涂龔嚴韓袁金童陸夏柳凃邵")
_NAME_THEN_DATE = re.compile(rf"[{_SURNAMES}][\u4e00-\u9fff]{{1,2}}\s*[（(，,、:：]?\s*$")


@dataclass(frozen=True)
class Finding:
    kind: str  # national_id, phone, email, birth_date
    text: str
    start: int

    @property
    def masked(self) -> str:
        """The match with its middle hidden, so the warning does not repeat the personal data."""
        t = self.text
        keep = max(1, len(t) // 4)
        return t[:keep] + "*" * (len(t) - 2 * keep) + t[-keep:] if len(t) > 2 * keep else "*" * len(t)


def national_id_valid(value: str) -> bool:
    """Taiwan national ID (A123456789) or new resident certificate (A800000014): check digit holds."""
    m = _ID.fullmatch(value)
    if not m:
        return False
    code = _LETTER[m.group(1).upper()]
    digits = [int(c) for c in m.group(2) + m.group(3)]
    total = code // 10 + (code % 10) * 9 + sum(d * w for d, w in zip(digits, (8, 7, 6, 5, 4, 3, 2, 1, 1),
                                                                      strict=True))
    return total % 10 == 0


def find(text: str, *, roc_year_now: int = 115) -> list[Finding]:
    """Every personal identifier in ``text``, in order of appearance."""
    out: list[Finding] = []
    for m in _ID.finditer(text):
        if national_id_valid(m.group(0)):
            out.append(Finding("national_id", m.group(0), m.start()))
    for m in _EMAIL.finditer(text):
        out.append(Finding("email", m.group(0), m.start()))
    for m in _PHONE.finditer(text):
        before, after = text[max(0, m.start() - 12):m.start()], text[m.end():m.end() + 1]
        if _CODE_LABEL.search(before) or before.endswith("第") or after == "號":
            continue
        if any(f.start <= m.start() < f.start + len(f.text) for f in out):
            continue  # part of an e-mail address or ID already reported
        out.append(Finding("phone", m.group(0), m.start()))
    for m in _DATE.finditer(text):
        if any(f.start <= m.start() < f.start + len(f.text) for f in out):
            continue
        before = text[max(0, m.start() - 16):m.start()]
        if _BIRTH_BEFORE.search(before) or _BIRTH_AFTER.match(text[m.end():m.end() + 3]):
            out.append(Finding("birth_date", m.group(0), m.start()))
        elif _NAME_THEN_DATE.search(before) and _years_ago(int(m.group("y")), roc_year_now) >= 15:
            # A date decades old right after a person's name is a birthday, not an activity.
            out.append(Finding("birth_date", m.group(0), m.start()))
    return sorted(out, key=lambda f: f.start)


def _years_ago(year: int, roc_year_now: int) -> int:
    roc = year - 1911 if year >= 1912 else year
    return roc_year_now - roc
