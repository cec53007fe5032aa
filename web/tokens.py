"""API 權杖: a user's own personal tokens for the JSON API (``web.api``): make, list, revoke.

A new token is shown once, on the page that answers the POST (the database keeps only its SHA-256
digest), with ``Cache-Control: no-store`` like every page. Revoking is immediate.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from web.db import database, session
from web.forms import NewTokenForm, RevokeTokenForm
from web.i18n import gettext as _
from web.i18n import localized
from workflow import clock
from workflow.errors import CaseflowError, ValidationError
from workflow.people import api_tokens

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _page(form: NewTokenForm, new_token: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("tokens.html", form=form, revoke=RevokeTokenForm(formdata=None),
                           tokens=api_tokens.listing(session(), current_user.id), now=clock.now(),
                           new_token=new_token, default_days=api_tokens.DEFAULT_DAYS,
                           max_days=api_tokens.MAX_DAYS), status


@bp.get("")
@login_required
def show() -> tuple[str, int]:
    return _page(NewTokenForm(formdata=None))


@bp.post("")
@login_required
def create() -> tuple[str, int]:
    form = NewTokenForm()
    valid = form.validate()
    days = int(form.days.data) if not form.days.errors else 0
    if not form.days.errors and not 1 <= days <= api_tokens.MAX_DAYS:
        form.days.errors = [_("請填寫 1 到 %(max)s 的整數", max=api_tokens.MAX_DAYS)]
        valid = False
    if not valid:
        return _page(form, status=422)
    try:
        issued = api_tokens.issue(database(), current_user.id, form.name.data, days=days)
    except ValidationError as exc:
        form.name.errors = [localized(*msg) for msg in exc.errors.values()]
        return _page(form, status=422)
    except CaseflowError:
        abort(403)
    session().rollback()  # list the new token too (the read transaction may predate it)
    return _page(NewTokenForm(formdata=None), new_token=issued.token, status=201)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    if not RevokeTokenForm().validate():
        abort(400)
    if not api_tokens.revoke(database(), current_user.id, token_id):
        abort(404)  # someone else's: as if it did not exist
    flash(_("已撤銷權杖，使用它的程式將無法再存取。"), "success")
    return redirect(url_for(".show"), 303)
