"""宣導紀錄: the outreach register's page: a year's (or a quarter's) events with participants by
sex, materials and photos, whether the social affairs section held its public event, a form to
record an event and one to add a photo (with caption and alt text), and exports (CSV, ODS, XLSX).

Anyone in the office may read it (it holds counts, not names); the social affairs section, the
liaisons, and section staff and chiefs for their own unit record events.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from web.access import holds_any
from web.admin.common import date_check, parse_date, strip
from web.db import database, session
from web.exports import FORMATS, download
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from web.registers.common import roc_year_arg
from workflow import storage
from workflow.errors import NotFound, ValidationError
from workflow.models import OutreachPhoto, Unit
from workflow.registers import outreach
from workflow.registers.training import QUARTERS, period_bounds
from workflow.roles import Role

bp = Blueprint("outreach", __name__, url_prefix="/registers/outreach")
ANY_UNIT = frozenset({Role.SOCIAL_AFFAIRS, Role.LIAISON, Role.DEPUTY_LIAISON})
OWN_UNIT = frozenset({Role.STAFF, Role.CHIEF})
TOPICS = [SelectChoice("gender_equality", _l("性別平等")), SelectChoice("cedaw", _l("CEDAW"))]
MATERIALS = 3


class EventForm(FlaskForm):
    unit_id = SelectField(_l("辦理單位"), coerce=int)
    name = StringField(_l("活動名稱"), [DataRequired(_l("請填寫活動名稱")), Length(max=200)], filters=[strip])
    held_on = StringField(_l("活動日期"), [InputRequired(_l("請填寫活動日期")), date_check])
    place = StringField(_l("地點"), [DataRequired(_l("請填寫地點")), Length(max=100)], filters=[strip])
    topic = SelectField(_l("宣導主題"), choices=TOPICS)
    audience = StringField(_l("對象"), [DataRequired(_l("請填寫對象")), Length(max=100)], filters=[strip])
    public = BooleanField(_l("對外公開的活動（社會課每年至少 1 場）"))
    male = IntegerField(_l("參與人數（男）"), [InputRequired(_l("請填寫人數，沒有請填 0")),
                                         NumberRange(0, outreach.MAX_PARTICIPANTS, _l("人數須為 0 以上的整數"))])
    female = IntegerField(_l("參與人數（女）"), [InputRequired(_l("請填寫人數，沒有請填 0")),
                                           NumberRange(0, outreach.MAX_PARTICIPANTS, _l("人數須為 0 以上的整數"))])
    mat1_kind = StringField(_l("文宣種類 1"), [Optional(), Length(max=50)], filters=[strip])
    mat1_count = IntegerField(_l("份數 1"), [Optional(), NumberRange(1, 1_000_000, _l("份數須為 1 以上的整數"))])
    mat2_kind = StringField(_l("文宣種類 2"), [Optional(), Length(max=50)], filters=[strip])
    mat2_count = IntegerField(_l("份數 2"), [Optional(), NumberRange(1, 1_000_000, _l("份數須為 1 以上的整數"))])
    mat3_kind = StringField(_l("文宣種類 3"), [Optional(), Length(max=50)], filters=[strip])
    mat3_count = IntegerField(_l("份數 3"), [Optional(), NumberRange(1, 1_000_000, _l("份數須為 1 以上的整數"))])


class PhotoForm(FlaskForm):
    photo = FileField(_l("照片"), [FileRequired(_l("請選擇照片"))])
    caption = StringField(_l("照片說明"), [DataRequired(_l("請填寫照片說明")), Length(max=200)], filters=[strip])
    alt_text = StringField(_l("替代文字（照片呈現的內容）"), [DataRequired(_l("請填寫替代文字")), Length(max=200)],
                           filters=[strip])


def can_record() -> bool:
    return holds_any(ANY_UNIT | OWN_UNIT)


def _units() -> list[SelectChoice]:
    q = select(Unit.id, Unit.name).where(Unit.office_id == current_user.office_id)
    if not holds_any(ANY_UNIT):
        q = q.where(Unit.id == current_user.unit_id)
    return [SelectChoice(i, n) for i, n in session().execute(q.order_by(Unit.id))]



def _period() -> str | None:
    p = request.args.get("period")
    return p if p in QUARTERS and p != "Y" else None


def _event_form(formdata: Any = None) -> EventForm:
    form = EventForm(formdata=formdata, prefix="event")
    form.unit_id.choices = _units()
    if formdata is None and current_user.unit_id in [c.value for c in form.unit_id.choices]:
        form.unit_id.data = current_user.unit_id
    return form


def _page(status: int = 200, *, event: EventForm | None = None, photo_errors: dict[int, list[str]] | None = None,
          problem: str | None = None) -> tuple[str, int]:
    year, period = roc_year_arg(), _period()
    first, last = period_bounds(year, period)
    rows = outreach.events(session(), current_user.office_id, first, last)
    s = session()
    return render_template(
        "registers_outreach.html", year=year, period=period, rows=rows,
        check=outreach.year_check(s, current_user.office_id, year),
        photos={e.id: outreach.photos(s, e.id) for e, _u, _m, n in rows if n},
        totals={"male": sum(e.male for e, *_r in rows), "female": sum(e.female for e, *_r in rows)},
        topics={c.value: c.label for c in TOPICS}, can_record=can_record(), form=event or _event_form(),
        photo_form=PhotoForm(formdata=None),
        photo_errors=photo_errors or {}, problem=problem, formats=sorted(FORMATS), quarters=("Q1", "Q2", "Q3", "Q4"),
    ), status


@bp.get("")
@login_required
def show() -> tuple[str, int]:
    return _page()


def _materials(form: EventForm) -> list[tuple[str, int]]:
    return [(getattr(form, f"mat{i}_kind").data or "", getattr(form, f"mat{i}_count").data or 0)
            for i in range(1, MATERIALS + 1)]


@bp.post("")
@login_required
def add() -> Response | tuple[str, int]:
    if not can_record():
        abort(403)
    form = _event_form(request.form)
    if not form.validate():
        return _page(422, event=form, problem=_("有欄位需要修正，請看各欄位下方的說明；您輸入的內容都還在。"))
    try:
        with database().unit_of_work() as uow:
            e = outreach.add_event(
                uow.session, current_user.office_id, current_user.id, unit_id=form.unit_id.data, name=form.name.data,
                held_on=parse_date(form.held_on.data), place=form.place.data, topic=form.topic.data,
                audience=form.audience.data, public=form.public.data, male=form.male.data, female=form.female.data,
                materials=_materials(form))
            uow.commit()
    except ValidationError as exc:
        for key, msg in exc.errors.items():
            target = getattr(form, key if hasattr(form, key) else "name")
            target.errors = [*target.errors, localized(*msg)]
        return _page(422, event=form, problem=_("有欄位需要修正，請看各欄位下方的說明；您輸入的內容都還在。"))
    flash(_("已登錄宣導活動「%(name)s」。", name=e.name), "success")
    return redirect(url_for(".show", year=roc_year_arg()), 303)


@bp.post("/<int:event_id>/photos")
@login_required
def add_photo(event_id: int) -> Response | tuple[str, int]:
    if not can_record():
        abort(403)
    try:
        outreach.own_event(session(), current_user.office_id, event_id)
    except NotFound:
        abort(404)
    form = PhotoForm()
    errors: list[str] = []
    if not form.validate():
        errors = [str(m) for f in (form.photo, form.caption, form.alt_text) for m in f.errors]
        if form.csrf_token.errors:
            abort(400)
    else:
        try:
            with database().unit_of_work() as uow:
                outreach.add_photo(uow.session, current_user.office_id, current_user.id, event_id,
                                   form.photo.data.read(outreach.MAX_PHOTO_BYTES + 1),
                                   caption=form.caption.data or "", alt_text=form.alt_text.data or "")
                uow.commit()
        except NotFound:
            abort(404)
        except ValidationError as exc:
            errors = [localized(*m) for m in exc.errors.values()]
    if errors:
        return _page(422, photo_errors={event_id: errors}, problem=_("照片沒有上傳：%(why)s", why="；".join(errors)))
    flash(_("已加入照片。"), "success")
    return redirect(url_for(".show", year=roc_year_arg()), 303)


@bp.get("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int) -> Response:
    s = session()
    p = s.get(OutreachPhoto, photo_id)
    if p is None:
        abort(404)
    try:
        outreach.own_event(s, current_user.office_id, p.event_id)
    except NotFound:
        abort(404)
    return Response(storage.default().get(p.storage_key), mimetype=p.content_type,
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


@bp.get("/export.<any(csv, ods, xlsx):fmt>")
@login_required
def export(fmt: str) -> Response:
    year = roc_year_arg()
    return download(fmt, _("%(year)s年宣導紀錄", year=year), f"outreach-{year}", outreach.EXPORT_HEADER,
                    outreach.export_rows(session(), current_user.office_id, year))
