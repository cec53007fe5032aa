"""The API's routes for a person's work: the queue (我的工作), notifications and search."""

from __future__ import annotations

from typing import Any

from web.access import readable_cases
from web.api import schemas as sch
from web.api.blueprint import api_user, bp
from web.api.common import ID, case_url, definition, documented, domain
from web.db import database, session
from web.i18n import current_language, localized
from web.labels import held_for_label, kind_label, role_label, state_label
from web.notifications import in_language
from web.queues import PAGE_SIZE
from workflow import clock
from workflow.errors import NotFound
from workflow.search import find, text
from workflow.views import inbox
from workflow.views.held_for import HeldFor, held_for
from workflow.views.queues import QueueItem, queue_for


# -- queue ----------------------------------------------------------------------------------------
def _held_for(held: HeldFor | None) -> dict[str, Any] | None:
    if held is None:
        return None
    return {"user_id": held.user_id, "name": held.name, "role": held.role, "role_label": role_label(held.role),
            "label": held_for_label(held)}


def _queue_item(item: QueueItem, held: HeldFor | None = None) -> dict[str, Any]:
    defn = definition(item.kind, item.workflow_version) if item.workflow_version else None
    return {"id": item.case_id, "kind": item.kind, "kind_label": kind_label(item.kind), "title": item.title,
            "state": item.state, "state_label": state_label(defn, item.state), "unit_id": item.unit_id,
            "unit_name": item.unit_name, "roc_year": item.roc_year, "period": item.period,
            "version": item.version, "due_date": item.due_date, "entered_state_at": item.entered_state_at,
            "url": case_url(item.case_id), "days_waiting": item.days_waiting, "submitted_by": item.submitted_by,
            "revision_count": item.revision_count,
            "overdue": item.due_date is not None and item.due_date < clock.today(), "held_for": _held_for(held)}


@bp.get("/queue")
@bp.arguments(sch.QueueQuerySchema, location="query", as_kwargs=True)
@bp.response(200, sch.QueueSchema)
@documented(422)
def queue(page: int) -> dict[str, Any]:
    """What waits for this user, oldest first (the 我的工作 page's query), 50 a page."""
    user = api_user()
    items = queue_for(database(), user.id, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    more = len(items) > PAGE_SIZE
    held = held_for(database(), session(), user.id, user.office_id, items[:PAGE_SIZE])
    return {"items": [_queue_item(i, held.get(i.case_id)) for i in items[:PAGE_SIZE]], "page": page,
            "next_page": page + 1 if more else None}



# -- notifications --------------------------------------------------------------------------------
def _notification(item: inbox.Item, lang: str) -> dict[str, Any]:
    shown = in_language(item, lang)
    message = item.message or {}
    return {"id": item.id, "kind": message.get("kind"), "subject": shown.subject, "body": shown.body,
            "case_id": item.case_id, "case_url": case_url(item.case_id) if item.case_id else None,
            "trigger": message.get("trigger"), "on_behalf_of_id": message.get("for_id"),
            "on_behalf_of": message.get("for_name"), "created_at": item.created_at, "read_at": item.read_at}


@bp.get("/notifications")
@bp.arguments(sch.NotificationQuerySchema, location="query", as_kwargs=True)
@bp.response(200, sch.NotificationListSchema)
@documented(422)
def notifications(limit: int, unread: bool = False, cursor: int | None = None) -> dict[str, Any]:
    """Your notifications, newest first: cases that reached you (submitted to you, returned to you,
    approved on to you, filed, a failed publication; as a delegate, for whom) and deadline
    reminders, in the request's language; limit at a time, next_cursor for more."""
    user = api_user()
    items, more = inbox.page(session(), user.id, unread_only=unread, before_id=cursor or None, limit=limit)
    lang = current_language()
    return {"items": [_notification(i, lang) for i in items],
            "unread_count": inbox.unread_count(session(), user.id),
            "next_cursor": items[-1].id if more and items else None}


@bp.post(f"/notifications/<{ID}:notification_id>/read")
@bp.response(200, sch.NotificationReadSchema)
@documented(404)
def read_notification(notification_id: int) -> dict[str, Any]:
    """Mark one of your notifications read (again: no change); another person's is not found."""
    user = api_user()
    mine, _read = inbox.read_at(session(), user.id, notification_id)
    if not mine:
        raise NotFound(f"找不到通知 {notification_id}", f"no notification {notification_id}")
    session().rollback()
    inbox.mark_read(database(), user.id, notification_id)
    _mine, read = inbox.read_at(session(), user.id, notification_id)
    assert read is not None
    return {"id": notification_id, "read_at": read}
# -- search ---------------------------------------------------------------------------------------
SEARCH_PAGE = 20


def _search_hit(hit: find.Hit) -> dict[str, Any]:
    highlights, at = [], 0
    for piece, matched in hit.snippet:
        if matched:
            highlights.append([at, at + len(piece)])
        at += len(piece)
    return {"id": hit.case_id, "kind": hit.kind, "kind_label": kind_label(hit.kind), "title": hit.title,
            "state": hit.state, "state_label": state_label(definition(hit.kind, hit.workflow_version), hit.state),
            "unit_id": hit.unit_id, "unit_name": localized(hit.unit_name, hit.unit_name_en),
            "roc_year": hit.roc_year, "period": hit.period, "url": case_url(hit.case_id),
            "matched_in": hit.matched_in, "snippet": hit.snippet_text, "highlights": highlights}


@bp.get("/search")
@bp.arguments(sch.SearchQuerySchema, location="query", as_kwargs=True)
@bp.response(200, sch.SearchResultSchema)
@documented(422)
def search(q: str, page: int) -> dict[str, Any]:
    """The cases you may read that contain every word of q (title, fields, comments), 20 a page:
    those whose title has them first, then the most recently changed."""
    user = api_user()
    query = domain(lambda: text.parse(q))
    found = find.find(session(), user.office_id, readable_cases(user), query, limit=SEARCH_PAGE,
                      offset=(page - 1) * SEARCH_PAGE)
    more = (page - 1) * SEARCH_PAGE + len(found.hits) < found.total
    return {"items": [_search_hit(h) for h in found.hits], "total": found.total, "page": page,
            "next_page": page + 1 if more else None}
