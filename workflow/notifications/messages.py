"""What a notification says, in either language: a stored ``message`` (its kind and parameters)
rendered as (subject, body) for the reader, dates as ROC dates, states by their labels.

Two kinds: deadline reminders (``due_soon``, ``overdue``, ``step_overdue``; written by
``workflow.calendar.reminders``) and hand-offs (``handoff``; ``workflow.notifications.handoffs``).
Rendering happens where the text is read (the inbox, the API, the e-mail), so each person reads it
in their own language, whoever wrote the row and in whatever language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from workflow import rocdate

KIND_WORDS = {
    "due_soon": ("即將到期", "due soon"),
    "overdue": ("已逾期", "overdue"),
    "step_overdue": ("審核逾時", "review step overdue"),
}
HANDOFF = "handoff"
# What the transition did, as the sentence "案件…已由 X ___" / "Case … was ___ by X" needs it.
# (web/labels.py names the same triggers as buttons; these are the past-tense sentence forms.)
DONE_BY = {
    "submit": ("送出審核", "submitted for review"),
    "approve": ("核准", "approved"),
    "return_for_revision": ("退回修正", "returned for revision"),
    "withdraw": ("撤回", "withdrawn"),
    "file_with_city_group": ("函送推動組備查", "filed with the city group"),
    "city_approve": ("審查通過", "approved in review"),
    "record_council_noted": ("登錄性平會備查", "recorded as noted by the committee"),
    "retry_publish": ("重新送出刊登", "sent to be published again"),
    "record_manual_posting": ("登錄為人工刊登", "recorded as posted by hand"),
}
# What the system's own outcomes did (no person acted): "案件…___" / "Case …: ___".
DONE_BY_SYSTEM = {
    "mark_published": ("已刊登", "published"),
    "mark_publish_failed": ("刊登失敗", "publishing failed"),
}
RETURNED = "return_for_revision"
FAILED = "mark_publish_failed"


def reminder_message(kind: str, case_id: int, title: str, step: str, step_label: str, step_label_en: str,
                     deadline: dt.date) -> dict[str, Any]:
    """A reminder notification's ``message``: what ``render`` makes its text of, in either language."""
    return {"kind": kind, "case_id": case_id, "title": title, "step": step, "step_label": step_label,
            "step_label_en": step_label_en, "deadline": deadline.isoformat()}


def handoff_message(*, case_id: int, title: str, trigger: str, state: str, state_label: str, state_label_en: str,
                    final: bool, actor: str | None, actor_for: str | None, comment: str | None,
                    comment_en: str | None = None, for_id: int | None = None,
                    for_name: str | None = None) -> dict[str, Any]:
    """A hand-off notification's ``message``: the case reached the reader (``for_name``: they hold it
    as a delegate of that person), or it is done (``final``). ``actor`` None: the system acted;
    ``actor_for``: whom the actor acted for (代理). ``comment`` is the reviewer's comment, or the
    reason a publication failed (``comment_en`` its English, where the system wrote one)."""
    return {"kind": HANDOFF, "case_id": case_id, "title": title, "trigger": trigger, "state": state,
            "state_label": state_label, "state_label_en": state_label_en, "final": final, "actor": actor,
            "actor_for": actor_for, "comment": comment, "comment_en": comment_en, "for_id": for_id,
            "for_name": for_name}


def render(message: dict[str, Any], lang: str) -> tuple[str, str]:
    """(subject, body) of a notification's ``message`` in ``lang`` ("zh_TW" or "en").

    Raises KeyError, ValueError or TypeError for a message it does not know (the caller shows the
    stored text instead).
    """
    if message["kind"] == HANDOFF:
        return _handoff(message, lang == "en")
    zh, en = KIND_WORDS[message["kind"]]
    case_id, title = message["case_id"], message["title"]
    deadline = rocdate.short(dt.date.fromisoformat(message["deadline"]))
    if lang == "en":
        return (f"[{en[:1].upper()}{en[1:]}] {title}",
                f"Case {case_id} \"{title}\" is at the step \"{message['step_label_en']}\", "
                f"deadline {deadline} ({en}).")
    return f"【{zh}】{title}", f"案件 {case_id}「{title}」目前在「{message['step_label']}」，期限 {deadline}（{zh}）。"


def _handoff(m: dict[str, Any], en: bool) -> tuple[str, str]:
    case_id, title, trigger = int(m["case_id"]), str(m["title"]), str(m["trigger"])
    state = str(m["state_label_en"] if en else m["state_label"])
    if trigger == RETURNED:
        tag = ("Returned for revision", "退回修正")
    elif m["final"] or trigger == FAILED:
        tag = (str(m["state_label_en"]), str(m["state_label"]))
    else:
        tag = ("Waiting for you", "待您處理")
    subject = f"[{tag[0]}] {title}" if en else f"【{tag[1]}】{title}"
    actor, actor_for = m["actor"], m["actor_for"]
    if actor is None:
        zh_done, en_done = DONE_BY_SYSTEM.get(trigger, (trigger, trigger))
        body = (f'Case {case_id} "{title}": {en_done}; it is now at "{state}".' if en
                else f"案件 {case_id}「{title}」{zh_done}，目前在「{state}」。")
    else:
        zh_done, en_done = DONE_BY.get(trigger, (trigger, trigger))
        if en:
            who = f"{actor} (for {actor_for})" if actor_for else str(actor)
            body = f'Case {case_id} "{title}" was {en_done} by {who}; it is now at "{state}".'
        else:
            who = f"{actor}（代理 {actor_for}）" if actor_for else str(actor)
            body = f"案件 {case_id}「{title}」已由 {who} {zh_done}，目前在「{state}」。"
    if m.get("for_name"):
        body += f" You hold it for {m['for_name']} (delegation)." if en else f"您代理 {m['for_name']} 處理。"
    comment = (m.get("comment_en") or m.get("comment")) if en else m.get("comment")
    if comment:
        if actor is None:
            body += f" Reason: {comment}" if en else f"原因：{comment}"
        else:
            body += f" Comment: {comment}" if en else f"意見：{comment}"
    return subject, body


def stored_text(message: dict[str, Any]) -> tuple[str, str]:
    """The text a row keeps beside its ``message`` (for readers that cannot render it): the
    Chinese subject, and the body in Chinese, then in English."""
    subject, zh_body = render(message, "zh_TW")
    _en_subject, en_body = render(message, "en")
    return subject, f"{zh_body}\n\n{en_body}"


def case_path(case_id: int) -> str:
    return f"/cases/{case_id}"


SETTINGS_PATH = "/account/notifications"


def email_text(subject: str, body: str, link: str, settings_link: str, lang: str) -> tuple[str, str]:
    """One notification's e-mail: its text, the link to the case, and where to change how one is told."""
    if lang == "en":
        return subject, f"{body}\n\nOpen the case: {link}\n\n(How you are notified: {settings_link})"
    return subject, f"{body}\n\n開啟案件：{link}\n\n（變更通知方式：{settings_link}）"


def digest_text(items: Sequence[tuple[str, str, str]], day: dt.date, settings_link: str,
                lang: str) -> tuple[str, str]:
    """A day's digest: every (subject, body, link) not yet e-mailed, oldest first, in one e-mail."""
    n = len(items)
    if lang == "en":
        subject = f"caseflow daily digest, {rocdate.short(day)}: {n} notification{'s' if n != 1 else ''}"
        parts = [f"{s}\n{b}\n{link}" for s, b, link in items]
        return subject, "\n\n".join([*parts, f"(How you are notified: {settings_link})"])
    subject = f"caseflow 每日通知摘要（{rocdate.short(day)}）：{n} 則"
    parts = [f"{s}\n{b}\n{link}" for s, b, link in items]
    return subject, "\n\n".join([*parts, f"（變更通知方式：{settings_link}）"])
