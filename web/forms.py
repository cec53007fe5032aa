"""The app's forms (Flask-WTF: each carries its CSRF token; CSRFProtect also guards every POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from web.i18n import lazy_gettext as _l
from workflow.passwords import MAX_LENGTH as PASSWORD_MAX

COMMENT_MAX = 4000  # workflow.operations refuses longer comments


class LoginForm(FlaskForm):
    username = StringField(_l("帳號"), [InputRequired(_l("請輸入帳號")), Length(max=64)])
    password = PasswordField(_l("密碼"), [InputRequired(_l("請輸入密碼")), Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("在這台電腦上保持登入"))


class ActionForm(FlaskForm):
    """One action on a case. ``version`` is the case version the page showed (optimistic lock).

    Built with ``prefix=trigger`` so several action forms on one page have distinct field ids.
    """

    version = HiddenField(validators=[InputRequired(), Regexp(r"^[1-9][0-9]{0,9}$")])
    comment = TextAreaField(_l("意見"), [Optional(), Length(max=COMMENT_MAX)])
