"""Log lines that say who and what they are about: the request id, the user and the case in the web
app, the task in a Celery worker; as plain text (the default) or one JSON object per line
(``CASEFLOW_LOG_FORMAT=json``, for a log collector).

The context lives in a ``ContextVar``, bound where it becomes known (``web.request_log`` for the
request id and case, ``web.auth`` for the user, ``tasks.worker_process`` for the task,
``documents.service`` and ``publishing.service`` for the case a task works on) and cleared at the
end of each request or task. A filter on the one handler copies it onto every record, whichever
library logged it.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import IO, Any

# The context fields, in the order the text format prints them.
FIELDS = ("request_id", "user_id", "case_id", "task_id", "task")
FORMATS = ("text", "json")
# Never mutated in place: ``bind`` sets a new dict, so a thread or task never sees another's.
_context: ContextVar[dict[str, Any]] = ContextVar("caseflow_log_context", default={})  # noqa: B039


def bind(**fields: Any) -> None:
    """Add fields to the current context (None values are ignored)."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def clear() -> None:
    _context.set({})


def current() -> dict[str, Any]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copies the context onto the record (a field the call passed in ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _context.get()
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, ctx.get(name))
        return True


class TextFormatter(logging.Formatter):
    """``2026-12-06 10:15:02,113 INFO web.cases: message [request_id=... user_id=3 case_id=12]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        tags = " ".join(f"{k}={v}" for k in FIELDS if (v := getattr(record, k, None)) is not None)
        if not tags:
            return text
        first, newline, rest = text.partition("\n")  # after the message, before a traceback
        return f"{first} [{tags}]{newline}{rest}"


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context fields
    that are set, anything passed in ``extra``, and the traceback as text."""
    from pythonjsonlogger.json import JsonFormatter

    class _Formatter(JsonFormatter):
        def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in log_data.items() if v is not None}

    return _Formatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                      rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False)


_HANDLER_MARK = "_caseflow_handler"


def configure(fmt: str = "text", level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in ``fmt``; idempotent (the handler a previous
    call installed is replaced, other handlers are left alone)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: choose from {', '.join(FORMATS)}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
