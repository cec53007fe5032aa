"""推動組: the city group's side. Its reviewers (the role city_reviewer, in the city's own
organisation) see what every district office has filed with the city, awaiting their acknowledgement
or already acknowledged, and open each case to acknowledge it (備查) or send it back with a comment
(the case page's actions). The cross-district page compares the offices: on-time delivery per
quarter, the task force's one-third rule, training hours met, outreach; as charts and CSV/XLSX.

A district's own city reviewer (an older set-up) sees its office's cases only: the list reads the
same rule as the case page (``web.access.readable_cases``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from web.access import holds_any, readable_cases
from web.charts import bars
from web.db import database, session
from web.exports import FORMATS, download
from web.i18n import gettext as _
from web.labels import kind_label, period_label, state_label
from web.registers.common import roc_year_arg
from workflow.engine import registry
from workflow.models import Case, Office, Unit
from workflow.roles import Role
from workflow.views import districts as districtsmod

bp = Blueprint("city", __name__, url_prefix="/city")
PAGE_SIZE = 50
STATUSES = ("awaiting", "done", "all")


def is_city_reviewer() -> bool:
    return holds_any(frozenset({Role.CITY_REVIEWER}))


def is_city_group() -> bool:
    """A reviewer of the city's own organisation (not of a district office)."""
    return current_user.is_authenticated and current_user.office_kind == "city" and is_city_reviewer()


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"is_city_reviewer": is_city_reviewer, "is_city_group": is_city_group}


@bp.before_app_request
def _city_home() -> WerkzeugResponse | None:
    """The city group has no queue of an office: its 我的工作 is what the districts filed."""
    if request.endpoint == "queues.my_work" and current_user.is_authenticated \
            and current_user.office_kind == "city":
        return redirect(url_for("city.show"), 302)
    return None


def _states(status: str) -> list[str]:
    """The city's states of every workflow: those it holds (awaiting), those it has done with, or both."""
    return sorted({st.name for d in registry.default().current_definitions() for st in d.states
                   if st.city and (status == "all" or (st.city == "holds") == (status == "awaiting"))})


@bp.get("")
@login_required
def show() -> str:
    if not is_city_reviewer():
        abort(403)
    status = request.args.get("status", "awaiting")
    status = status if status in STATUSES else "awaiting"
    office_code = request.args.get("office", "")
    page_raw = request.args.get("page", "1")
    page = int(page_raw) if page_raw.isdigit() and 0 < int(page_raw) < 10_000 else 1
    where = [readable_cases(current_user), Case.state.in_(_states(status))]
    offices = list(session().execute(select(Office.code, Office.name).where(Office.kind == "district")
                                     .order_by(Office.id)))
    if office_code and office_code in {c for c, _n in offices}:
        where.append(Case.office_id == select(Office.id).where(Office.code == office_code).scalar_subquery())
    else:
        office_code = ""
    s = session()
    total = int(s.scalar(select(func.count()).select_from(Case).where(*where)) or 0)
    rows = s.execute(select(Case, Office.name, Unit.name).join(Office, Office.id == Case.office_id)
                     .join(Unit, Unit.id == Case.unit_id).where(*where)
                     .order_by(Case.delivered_at.desc().nulls_last(), Case.id.desc())
                     .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()

    def state_of(c: Case) -> str:
        return state_label(registry.default().get(database(), c.kind, c.workflow_version, s), c.state)

    return render_template("city.html", rows=rows, total=total, page=page, more=page * PAGE_SIZE < total,
                           status=status, office_code=office_code, offices=offices if is_city_group() else [],
                           kind_label=kind_label, period_label=period_label, state_of=state_of)


def _districts() -> tuple[int, list[districtsmod.District]]:
    if not is_city_group():
        abort(403)
    year = roc_year_arg()
    return year, districtsmod.districts(session(), year)


@bp.get("/districts")
@login_required
def districts() -> str:
    year, rows = _districts()
    rates = [(d.name.removeprefix("桃園市").removesuffix("公所"), d.year_rate,
              f"{sum(d.on_time)}/{sum(d.due)}" + (f" ({d.year_rate:.0%})" if d.year_rate is not None else ""))
             for d in rows]
    trained = [(d.name.removeprefix("桃園市").removesuffix("公所"), d.trained / d.people if d.people else None,
                f"{d.trained}/{d.people}") for d in rows]
    return render_template("city_districts.html", year=year, rows=rows, formats=sorted(FORMATS),
                           chart_on_time=bars(_("各區準時率"), rates) if rows else None,
                           chart_trained=bars(_("各區培力時數達成率"), trained) if rows else None)


@bp.get("/districts.<any(csv, ods, xlsx):fmt>")
@login_required
def export_districts(fmt: str) -> Response:
    year, rows = _districts()
    return download(fmt, _("%(year)s年各區性別主流化執行情形", year=year), f"districts-{year}",
                    districtsmod.EXPORT_HEADER, districtsmod.export_rows(rows))
