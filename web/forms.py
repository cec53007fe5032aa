"""The app's forms (Flask-WTF: each carries its CSRF token; CSRFProtect also guards every POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from web.i18n import lazy_gettext as _l
from workflow.people.passwords import MAX_LENGTH as PASSWORD_MAX

COMMENT_MAX = 4000  # workflow.cases refuses longer comments


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
    confirm = BooleanField(_l("我確定要撤回：撤回後案件即結案，不能再送出"))


# -- 我的案件: creating and editing a case (web/mine.py, web/edit.py, web/uploads.py) --------------
class NewCaseForm(FlaskForm):
    """A new case: kind and unit choices are filled per user (what their roles may create)."""

    kind = SelectField(_l("案件類別"), [InputRequired(_l("請選擇案件類別"))], choices=[],
                       validate_choice=False)  # web/mine.py checks the (kind, unit) pair itself
    unit = SelectField(_l("課室"), [InputRequired(_l("請選擇課室"))], choices=[], validate_choice=False)
    roc_year = StringField(_l("年度（民國）"), [InputRequired(_l("請填寫年度")),
                                             Regexp(r"^\s*[0-9]{3}\s*$", message=_l("請填寫三位數的民國年，例：113"))])
    period = SelectField(_l("期別"), choices=[], validate_choice=False)  # create_case checks the cycle
    title = StringField(_l("標題"), [InputRequired(_l("請填寫標題")), Length(max=200, message=_l("標題最多 200 字"))])


class EditCaseForm(FlaskForm):
    """The fixed part of a case's edit form; the kind's own fields are generated (web/case_form.py)."""

    version = HiddenField(validators=[InputRequired(), Regexp(r"^[1-9][0-9]{0,9}$")])
    title = StringField(_l("標題"), [InputRequired(_l("請填寫標題")), Length(max=200, message=_l("標題最多 200 字"))])


class UploadForm(FlaskForm):
    version = HiddenField(validators=[InputRequired(), Regexp(r"^[1-9][0-9]{0,9}$")])
    file = FileField(_l("檔案"), [FileRequired(_l("請選擇要上傳的檔案"))])
    alt_text = StringField(_l("替代文字（照片必填）"), [Optional(), Length(max=500, message=_l("替代文字最多 500 字"))])
    caption = StringField(_l("照片說明（選填）"), [Optional(), Length(max=200, message=_l("照片說明最多 200 字"))])


class EventPhotosForm(FlaskForm):
    """Copy the photos of one 宣導 event (the register's) into a posting draft."""

    version = HiddenField(validators=[InputRequired(), Regexp(r"^[1-9][0-9]{0,9}$")])
    event = SelectField(_l("宣導活動"), [InputRequired(_l("請選擇一場宣導活動"))], choices=[],
                        validate_choice=False)  # the operation checks it is this office's event


class RemoveAttachmentForm(FlaskForm):
    """Take one attachment off a draft; ``version`` is the case version the page showed."""

    version = HiddenField(validators=[InputRequired(), Regexp(r"^[1-9][0-9]{0,9}$")])


class MarkReadForm(FlaskForm):
    """Mark one notification (or, with no id, all of them) as read."""


class NotificationSettingsForm(FlaskForm):
    """通知設定: how the e-mail copy of one's notifications comes, and its language. The choices are
    checked by ``workflow.notifications.preferences`` (its messages name what to choose)."""

    email_mode = RadioField(_l("電子郵件"), [InputRequired(_l("請選擇要不要寄電子郵件"))], choices=[
        SelectChoice("immediate", _l("每則通知立即寄一封")),
        SelectChoice("digest", _l("每日摘要：每天早上一封，列出還沒寄過的通知")),
        SelectChoice("none", _l("不寄送，只看站內通知")),
    ], validate_choice=False)
    language = SelectField(_l("郵件語言"), [InputRequired(_l("請選擇郵件語言"))],
                           choices=[SelectChoice("zh_TW", "中文"), SelectChoice("en", "English")],
                           validate_choice=False)


# -- API 權杖 (web/tokens.py) ---------------------------------------------------------------------
class NewTokenForm(FlaskForm):
    name = StringField(_l("名稱（用途）"), [InputRequired(_l("請填寫名稱，例如用在哪個程式")),
                                         Length(max=100, message=_l("名稱最多 100 字"))])
    days = StringField(_l("有效天數"), [InputRequired(_l("請填寫有效天數")),
                                       Regexp(r"^\s*[0-9]{1,3}\s*$", message=_l("請填寫 1 到 365 的整數"))],
                       default="90")


class RevokeTokenForm(FlaskForm):
    """Only the CSRF token: the token to revoke is in the URL."""


# -- 搜尋 (web/search.py): a GET form, nothing to protect from cross-site requests -------------------
class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # GET: reads only, and the query belongs in the URL (bookmarkable)

    q = StringField(_l("要找的字詞"))
