"""搜尋: the cases the logged-in person may read that contain every word typed, in their title,
fields or history comments (``workflow.search``), 20 a page with the words marked in context.

The read rule is the case page's own (``web.access.readable_cases``), so a search never lists a
case its link would answer "not found" for. A query of only spaces or symbols, or an overlong one,
comes back (422) with the query kept and a message next to the box saying what to type.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from web.access import readable_cases
from web.db import database, session
from web.forms import SearchForm
from web.i18n import localized
from web.labels import kind_label, period_label, state_label
from workflow.engine import registry
from workflow.errors import NotFound, ValidationError
from workflow.search import find, text

bp = Blueprint("search", __name__)
PAGE_SIZE = 20
MAX_PAGE = 500


def page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_PAGE else 1


def state_word(kind: str, version: int, state: str) -> str:
    try:
        defn = registry.default().get(database(), kind, version, session())
    except NotFound:
        defn = None
    return state_label(defn, state)


@bp.get("/search")
@login_required
def show() -> tuple[str, int]:
    form = SearchForm(formdata=request.args)
    page_no = page_number()
    results: find.Results | None = None
    query: text.Query | None = None
    status = 200
    if "q" in request.args:
        try:
            query = text.parse(request.args.get("q", ""))
        except ValidationError as exc:
            form.q.errors = [localized(*exc.errors["q"])]
            status = 422
        else:
            results = find.find(session(), current_user.office_id, readable_cases(current_user), query,
                                limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
    first = (page_no - 1) * PAGE_SIZE
    rows: list[dict[str, Any]] = []
    for hit in results.hits if results else []:
        rows.append({"hit": hit, "kind": kind_label(hit.kind), "state": state_word(hit.kind, hit.workflow_version,
                                                                                   hit.state),
                     "unit": localized(hit.unit_name, hit.unit_name_en), "period": period_label(hit.period)})
    return render_template("search.html", form=form, query=query, results=results, rows=rows, page_no=page_no,
                           first=first, more=results is not None and first + len(rows) < results.total), status
