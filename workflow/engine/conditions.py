"""Named conditions a transition may require. Each says, in words, why it does not hold."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.engine.definitions import Definition


@dataclass(frozen=True)
class CheckContext:
    """Everything a condition may look at: plain values, no ORM objects and no I/O."""

    definition: Definition
    fields: Mapping[str, Any]
    attachment_count: int
    actor_id: int | None
    principal_id: int | None  # whom the actor acts for (a delegation), else the actor
    submitted_by_id: int | None
    comment: str | None
    # The task force's decision behind an approval (meeting number, date, decision), loaded by the
    # operation only when a transition requires ``task_force_decided``; None when there is none.
    task_force_decision: Mapping[str, Any] | None = None
    # What a layer above the domain found and the operation's caller passes in (``approval.fire``'s
    # ``facts``): e.g. the pre-publication checks of ``publishing/`` under ``PREPUBLICATION_PROBLEMS``.
    facts: Mapping[str, Any] = field(default_factory=dict)


# The key of ``CheckContext.facts`` holding the pre-publication checks' problems, each (zh-TW, English).
PREPUBLICATION_PROBLEMS = "prepublication_problems"


# A check returns None when the condition holds, else (zh-TW, English) saying what is wrong.
Failure = tuple[str, str] | None


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    description_en: str
    check: Callable[[CheckContext], Failure]


def _fields_complete(ctx: CheckContext) -> Failure:
    from workflow.engine.fields import missing_required

    missing = missing_required(ctx.definition, ctx.fields)
    if not missing:
        return None
    shown = "、".join(missing[:5]) + ("…" if len(missing) > 5 else "")
    return (f"尚有必填欄位未完成或有誤：{shown}", f"required fields missing or invalid: {', '.join(missing[:5])}")


def _attachments_present(ctx: CheckContext) -> Failure:
    need = ctx.definition.min_attachments
    if ctx.attachment_count >= need:
        return None
    return (
        f"需上傳至少 {need} 個附件（例如活動照片），目前 {ctx.attachment_count} 個",
        f"needs at least {need} attachment(s), has {ctx.attachment_count}",
    )


def _not_submitter(ctx: CheckContext) -> Failure:
    if ctx.submitted_by_id is None:
        return None
    if ctx.submitted_by_id in (ctx.actor_id, ctx.principal_id):
        return ("送出案件的人不得審核同一案件（職務分離）", "the person who submitted the case cannot approve it")
    return None


def _is_submitter(ctx: CheckContext) -> Failure:
    if ctx.submitted_by_id is not None and ctx.submitted_by_id in (ctx.actor_id, ctx.principal_id):
        return None
    return ("只有送出案件的人可以收回", "only the person who submitted the case can take it back")


def _comment_given(ctx: CheckContext) -> Failure:
    if ctx.comment and ctx.comment.strip():
        return None
    return ("請填寫意見，說明退回或處理的理由", "a comment is required")


def _task_force_decided(ctx: CheckContext) -> Failure:
    if ctx.task_force_decision is not None:
        return None
    return ("尚無專案小組的決議：請先在「專案小組」頁登錄已召開且達法定人數的會議，以及會議對本案的通過決議"
            "（本所若採書面審查，則登錄足額委員的書面同意）",
            "no task force decision: record a held, quorate meeting and its decision passing this case first "
            "(or, where the office allows it, enough members' written approvals)")


def _prepublication_checks_passed(ctx: CheckContext) -> Failure:
    # The checks live above the domain (publishing/checks.py, which reads the files); whoever fires
    # the trigger runs them and passes what they found. Not having run them fails closed.
    problems = ctx.facts.get(PREPUBLICATION_PROBLEMS)
    if problems is None:
        return ("重新刊登前須先通過刊登前檢查：請從「刊登失敗處理」頁重新刊登",
                "the pre-publication checks must pass first: retry from the failed-postings page")
    if not problems:
        return None
    return ("刊登前檢查未通過，修正以下問題後才能重新刊登：" + "；".join(str(p[0]) for p in problems),
            "the pre-publication checks fail; fix these before publishing again: "
            + "; ".join(str(p[1]) for p in problems))


CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in (
        Condition("fields_complete", "必填欄位皆已完成", "all required fields are complete", _fields_complete),
        Condition("attachments_present", "已上傳必要附件", "required attachments are present", _attachments_present),
        Condition("not_submitter", "審核者不是送出者", "the actor did not submit the case", _not_submitter),
        Condition("is_submitter", "執行者是送出者", "the actor submitted the case", _is_submitter),
        Condition("comment_given", "已填寫意見", "a comment is given", _comment_given),
        Condition("task_force_decided", "專案小組會議已決議通過", "a quorate task force meeting passed it",
                  _task_force_decided),
        Condition("prepublication_checks_passed", "刊登前檢查已通過", "the pre-publication checks pass",
                  _prepublication_checks_passed),
    )
}
