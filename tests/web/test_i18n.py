"""Both languages render: every interface string has its English, the compiled catalog is current,
every trigger has words, and dates are ROC dates in Taipei time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import web
from web.filters import roc, roc_datetime, roc_long
from web.labels import TRIGGERS
from workflow.engine import registry

WEB = Path(web.__file__).parent
PO = WEB / "translations/en/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2.ext.babel_extract")]


def _catalog() -> dict[str, str]:
    with PO.open("rb") as fh:
        cat = read_po(fh, locale="en")
    assert not [m.id for m in cat if m.id and m.fuzzy], "fuzzy entries in messages.po"
    return {str(m.id): str(m.string) for m in cat if m.id}


def test_every_interface_string_has_english() -> None:
    strings = {msg for _f, _l, msg, *_ in extract_from_dir(str(WEB), METHODS, keywords=KEYWORDS)}
    assert strings, "nothing extracted: is the extraction map right?"
    english = _catalog()
    missing = sorted(s for s in strings if not english.get(str(s)))
    assert not missing, f"no English for {missing}; see web/translations/README.md"


def test_compiled_catalog_matches_the_po_file() -> None:
    with MO.open("rb") as fh:
        compiled = {str(m.id): str(m.string) for m in read_mo(fh) if m.id}
    assert compiled == _catalog(), "messages.mo is stale: run pybabel compile (web/translations/README.md)"


def test_every_declared_trigger_has_words() -> None:
    triggers = {t.trigger for d in registry.default().files.values() for t in d.transitions}
    assert triggers <= set(TRIGGERS), sorted(triggers - set(TRIGGERS))


def test_dates_are_roc_dates_in_taipei_time() -> None:
    assert roc(dt.date(2024, 4, 10)) == "113.04.10"
    assert roc_long(dt.date(2024, 4, 10)) == "中華民國113年4月10日"
    late_evening_utc = dt.datetime(2024, 4, 9, 17, 30, tzinfo=dt.UTC)  # already the 10th in Taipei
    assert roc(late_evening_utc) == "113.04.10"
    assert roc_datetime(late_evening_utc) == "113.04.10 01:30"
    assert roc(None) == roc_datetime(None) == ""


def test_english_pages_use_english_brackets_and_no_raw_placeholders(as_user, office) -> None:
    """In English, an aside reads " (Personnel Office)", not 「Section staff（人事室）」; the plan's
    titles on the admin calendar show a year, not "{year}"."""
    import re

    from tests.web.conftest import text

    admin = as_user("admin")
    admin.get("/lang/en")
    mixed = re.compile(r"[A-Za-z][A-Za-z .,]*（")
    for url in ("/admin/users", "/admin/calendar", "/task-force", "/"):
        words = text(admin.get(url))
        assert not mixed.findall(words), (url, mixed.findall(words)[:5])
    assert "Section chief (" in text(admin.get("/admin/users"))
    calendar = text(admin.get("/admin/calendar"))
    assert "{year}" not in calendar and "Training result report (Q1)" in calendar
    admin.get("/lang/zh_TW")
    assert "課長（" in text(admin.get("/admin/users"))


def test_every_page_has_an_icon(as_user) -> None:
    b = as_user("personnel_staff")
    html = b.get("/").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in html
    icon = b.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.data.startswith(b"<svg")
