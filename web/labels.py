"""Words for the codes the domain stores: triggers, periods, history events, kinds, states and roles.

Kind, state and field labels are declared in both languages in ``workflow/kinds``; triggers are
not (yet), so their words live here as translatable strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel.speaklater import LazyString

from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from workflow.engine import registry
from workflow.engine.definitions import Definition
from workflow.errors import NotFound
from workflow.roles import ROLE_LABELS
from workflow.views.held_for import HeldFor

TRIGGERS: dict[str, LazyString] = {
    "submit": _l("送出審核"),
    "withdraw": _l("撤回"),
    "take_back": _l("收回"),
    "approve": _l("核准"),
    "return_for_revision": _l("退回修正"),
    "submit_to_council": _l("送區民代表會備查"),
    "file_with_city_group": _l("函送推動組備查"),
    "city_approve": _l("推動組審查通過"),
    "city_acknowledge": _l("推動組備查"),
    "record_council_noted": _l("登錄性平會備查"),
    "retry_publish": _l("重新刊登"),
    "record_manual_posting": _l("登錄人工刊登"),
    "mark_published": _l("刊登成功"),
    "mark_publish_failed": _l("刊登失敗"),
}

PERIODS: dict[str, LazyString] = {
    "Q1": _l("第1季"),
    "Q2": _l("第2季"),
    "Q3": _l("第3季"),
    "Q4": _l("第4季"),
    "Y": _l("全年度"),
}

EVENTS: dict[str, LazyString] = {
    "created": _l("建立案件"),
    "transition": _l("狀態變更"),
    "edited": _l("修改內容"),
    "attachment": _l("上傳附件"),
    "attachment_removed": _l("移除附件"),
    "document": _l("產生文件"),
    "publication": _l("網站刊登"),
    "migrated": _l("改用新版流程"),
}


# What came of a publication attempt (``publishing.service`` / ``publishing.retry`` record these).
PUBLICATION_OUTCOMES: dict[str, LazyString] = {
    "published": _l("已刊登"),
    "transient_error": _l("暫時失敗，稍後自動再試"),
    "permanent_error": _l("刊登失敗"),
    "gave_up": _l("多次嘗試仍失敗"),
    "checks_failed": _l("刊登前檢查未通過，未送出"),
    "refused": _l("重新刊登遭拒：刊登前檢查未通過，未送出"),
    "interrupted": _l("上次嘗試未回報結果，重試前先向網站查詢"),
}


def publication_detail(data: Mapping[str, Any]) -> str:
    """One publication attempt in words: its number, what came of it, and why it failed."""
    outcome = PUBLICATION_OUTCOMES.get(str(data.get("outcome") or ""))
    words = str(outcome) if outcome is not None else str(data.get("outcome") or "")
    if data.get("outcome") != "interrupted":
        number = data.get("total") or data.get("attempt")
        if number:
            words = _("第 %(n)s 次嘗試：%(what)s", n=number, what=words)
    error = data.get("error")
    if error and data.get("outcome") not in ("interrupted", "published"):
        words += "：" + localized(str(error), str(data.get("error_en") or error))
    return words


def trigger_label(trigger: str | None) -> str:
    if not trigger:
        return ""
    label = TRIGGERS.get(trigger)
    return str(label) if label is not None else trigger


def period_label(period: str | None) -> str:
    if period is None:
        return "—"
    label = PERIODS.get(period)
    return str(label) if label is not None else period


DOCUMENTS: dict[str, LazyString] = {
    "sign_memo": _l("簽"),
    "training_results": _l("培力成果表"),
    "outreach_results": _l("宣導成果表"),
    "annual_results": _l("年度性平執行成果表"),
    "budget_review_table": _l("性別預算審議表"),
    "meeting_notice": _l("開會通知單"),
    "meeting_minutes": _l("會議紀錄"),
    "amendment_table": _l("修正對照表"),
    "city_letter": _l("函（送推動組備查）"),
}


def document_label(name: str) -> str:
    label = DOCUMENTS.get(name)
    return str(label) if label is not None else name


def event_label(event: str) -> str:
    label = EVENTS.get(event)
    return str(label) if label is not None else event


def kind_label(kind: str) -> str:
    try:
        d = registry.default().latest(kind)
    except NotFound:
        return kind
    return localized(d.label, d.label_en)


def state_label(defn: Definition | None, state: str | None) -> str:
    """A state's label in ``defn``; the raw name if the definition no longer has it."""
    if not state:
        return ""
    if defn is None:
        return state
    try:
        st = defn.state(state)
    except KeyError:
        return state
    return localized(st.label, st.label_en)


def role_label(role: str) -> str:
    return localized(*ROLE_LABELS.get(role, (role, role)))


def held_for_label(held: HeldFor) -> str:
    """The queue's mark on a case held only as a delegate: 「代理 張家豪（課長）」."""
    return _("代理 %(name)s（%(role)s）", name=held.name, role=role_label(held.role))
