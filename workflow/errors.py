"""Typed errors an operation raises. Each carries a sentence in Traditional Chinese and in English."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


class CaseflowError(Exception):
    """Base class: ``message`` is zh-TW for the UI, ``message_en`` for logs and the English UI."""

    code = "error"

    def __init__(self, message: str, message_en: str | None = None) -> None:
        super().__init__(message_en or message)
        self.message = message
        self.message_en = message_en or message


class NotFound(CaseflowError):
    code = "not_found"


class Conflict(CaseflowError):
    """Someone else changed the case first."""

    code = "conflict"

    def __init__(
        self,
        case_id: int,
        *,
        by: str | None,
        at: dt.datetime | None,
        current_version: int,
        expected_version: int,
    ) -> None:
        self.case_id = case_id
        self.by = by
        self.at = at
        self.current_version = current_version
        self.expected_version = expected_version
        from workflow.clock import TAIPEI
        from workflow.rocdate import short

        who = by or "另一位使用者"
        who_en = by or "another user"
        local = at.astimezone(TAIPEI) if at else None
        when = f"{short(local.date())} {local:%H:%M}" if local else "剛才"
        when_en = f"{local:%Y-%m-%d %H:%M} (Taipei)" if local else "just now"
        super().__init__(
            f"案件 {case_id} 已由{who}於 {when} 處理，請重新整理頁面後再操作。",
            f"Case {case_id} was changed by {who_en} at {when_en}; reload and try again.",
        )


class PermissionDenied(CaseflowError):
    code = "permission_denied"


class TransitionNotAllowed(CaseflowError):
    code = "transition_not_allowed"

    def __init__(self, message: str, message_en: str, *, allowed: list[str]) -> None:
        super().__init__(message, message_en)
        self.allowed = allowed


class ConditionFailed(CaseflowError):
    """A named condition of the transition does not hold; ``condition`` is its name."""

    code = "condition_failed"

    def __init__(self, condition: str, message: str, message_en: str) -> None:
        super().__init__(message, message_en)
        self.condition = condition


class ValidationError(CaseflowError):
    """Bad field values: ``errors`` maps a field name to (zh-TW, English) messages.

    The sentence shown to people names each field by its label in ``labels`` (zh-TW, English);
    a field without one is named by its key (``courses[2].hours``), and a label of ``("", "")``
    means the message says which field on its own.
    """

    code = "validation_error"

    def __init__(self, errors: Mapping[str, tuple[str, str]],
                 labels: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.errors = dict(errors)
        names = {k: (labels or {}).get(k, (k, k)) for k in self.errors}
        zh = "；".join(f"{names[k][0]}：{v[0]}" if names[k][0] else v[0] for k, v in self.errors.items())
        en = "; ".join(f"{names[k][1]}: {v[1]}" if names[k][1] else v[1] for k, v in self.errors.items())
        super().__init__(f"欄位有誤：{zh}", f"Invalid fields: {en}")


class WorkflowDefinitionError(CaseflowError):
    code = "workflow_definition"

    def __init__(self, kind: str, problem: str) -> None:
        self.kind = kind
        self.problem = problem
        super().__init__(f"流程定義 {kind} 有誤：{problem}", f"workflow {kind!r}: {problem}")
