"""案件: the case page, and the actions on it (one POST form per allowed trigger).

Each view is load (through ``access.load_case_for``) → act (one operation) → render or redirect.
A typed error from the operation becomes a flash message and a redirect back to the case; a
stale page (someone acted first) gets a 409 page naming who and when.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from web import case_page
from web.access import load_case_for
from web.db import database, session
from web.errors import conflict_message, error_message, render_error
from web.forms import ActionForm
from web.i18n import gettext as _
from web.labels import state_label, trigger_label
from workflow import operations, registry
from workflow.errors import CaseflowError, Conflict

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int) -> str:
    case = load_case_for(current_user, case_id)
    return render_template("case.html", page=case_page.build(database(), session(), current_user.id, case))


@bp.post("/<int:case_id>/actions/<string(maxlength=40):trigger>")
@login_required
def act(case_id: int, trigger: str) -> Response | tuple[str, int]:
    case = load_case_for(current_user, case_id)
    back = url_for(".show", case_id=case.id)
    form = ActionForm(prefix=trigger)
    if not form.validate():
        if form.comment.errors and not form.version.errors:
            flash(_("意見：%(error)s", error=form.comment.errors[0]), "error")
            return redirect(back, 303)
        abort(400)  # a tampered or truncated form: no version to check against
    try:
        result = operations.fire(case.id, trigger, current_user.id, form.comment.data or None,
                                 int(form.version.data), db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=back)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(back, 303)
    defn = registry.default().get(database(), case.kind, case.workflow_version)
    flash(_("已完成「%(action)s」，案件目前為「%(state)s」。",
            action=trigger_label(trigger), state=state_label(defn, result.to_state)), "success")
    return redirect(back, 303)
