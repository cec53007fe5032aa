"""Request and response schemas of the JSON API (marshmallow; flask-smorest turns them into OpenAPI).

Request schemas refuse unknown keys (marshmallow's default ``RAISE``): a misspelt key is an error,
never silently dropped. Numbers in bodies are strict (``"5"`` is not an integer).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

COMMENT_MAX = 4000  # workflow.cases refuses longer comments
PAGE_MAX = 9_999
LIST_MAX = 200  # the most cases one GET /cases page returns


# -- errors -------------------------------------------------------------------------------------
class ErrorSchema(Schema):
    """Every error: a stable machine ``code`` and a ``message`` in the request's language."""

    code = fields.Str(required=True, metadata={"description": "Stable machine-readable code, e.g. conflict"})
    message = fields.Str(required=True, metadata={"description": "For people: zh-TW, or English on request"})
    errors = fields.Dict(keys=fields.Str(), values=fields.Str(),
                         metadata={"description": "Per-field messages (validation errors)"})
    by = fields.Str(allow_none=True, metadata={"description": "Conflict: who changed the case first"})
    at = fields.DateTime(allow_none=True, metadata={"description": "Conflict: when"})
    current_version = fields.Int(metadata={"description": "Conflict: the case's version now"})
    allowed = fields.List(fields.Str(), metadata={"description": "Triggers possible in the case's state"})
    condition = fields.Str(metadata={"description": "The condition that does not hold"})


# -- who am I -----------------------------------------------------------------------------------
class NamedSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)


class OfficeSchema(NamedSchema):
    code = fields.Str(required=True)


class RoleSchema(Schema):
    role = fields.Str(required=True)
    label = fields.Str(required=True)
    unit_id = fields.Int(allow_none=True, required=True)
    unit_name = fields.Str(allow_none=True, required=True)
    on_behalf_of_id = fields.Int(allow_none=True, required=True,
                                 metadata={"description": "Set for a delegated role (代理): whose role it is"})
    on_behalf_of = fields.Str(allow_none=True, required=True)


class MeSchema(Schema):
    id = fields.Int(required=True)
    login = fields.Str(required=True)
    display_name = fields.Str(required=True)
    office = fields.Nested(OfficeSchema, required=True)
    unit = fields.Nested(NamedSchema, allow_none=True, required=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)


# -- kinds --------------------------------------------------------------------------------------
class ColumnSpecSchema(Schema):
    name = fields.Str(required=True)
    label = fields.Str(required=True)
    type = fields.Str(required=True, metadata={"description": "text, textarea, int, decimal, date, choice, bool"})
    required = fields.Bool(required=True)
    max_length = fields.Int(allow_none=True, required=True)
    min = fields.Float(allow_none=True, required=True)
    max = fields.Float(allow_none=True, required=True)
    choices = fields.List(fields.Str(), required=True)


class FieldSpecSchema(ColumnSpecSchema):
    min_rows = fields.Int(required=True)
    max_rows = fields.Int(required=True)
    columns = fields.List(fields.Nested(ColumnSpecSchema), required=True,
                          metadata={"description": "For type rows: the table's columns"})


class KindSchema(Schema):
    kind = fields.Str(required=True)
    label = fields.Str(required=True)
    cycle = fields.Str(required=True)
    periods = fields.List(fields.Str(allow_none=True), required=True,
                          metadata={"description": "Allowed values of period (null: no period)"})
    units = fields.List(fields.Nested(NamedSchema), required=True,
                        metadata={"description": "Units this user may open this kind for"})
    fields_ = fields.List(fields.Nested(FieldSpecSchema), required=True, data_key="fields")


class KindListSchema(Schema):
    items = fields.List(fields.Nested(KindSchema), required=True)


# -- cases --------------------------------------------------------------------------------------

class CaseSummarySchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True)
    kind_label = fields.Str(required=True)
    title = fields.Str(required=True)
    state = fields.Str(required=True)
    state_label = fields.Str(required=True)
    unit_id = fields.Int(required=True)
    unit_name = fields.Str(required=True)
    roc_year = fields.Int(required=True)
    period = fields.Str(allow_none=True, required=True)
    version = fields.Int(required=True)
    due_date = fields.Date(allow_none=True, required=True)
    entered_state_at = fields.DateTime(required=True)
    url = fields.Str(required=True)


class HeldForSchema(Schema):
    user_id = fields.Int(required=True)
    name = fields.Str(required=True)
    role = fields.Str(required=True)
    role_label = fields.Str(required=True)
    label = fields.Str(required=True, metadata={"description": "The queue's mark, e.g. 代理 張家豪（課長）"})


class QueueItemSchema(CaseSummarySchema):
    days_waiting = fields.Int(required=True)
    submitted_by = fields.Str(allow_none=True, required=True)
    revision_count = fields.Int(required=True)
    overdue = fields.Bool(required=True)
    held_for = fields.Nested(HeldForSchema, allow_none=True, required=True, metadata={
        "description": "Whom this user holds the case for, when only a delegation (代理) puts it in their queue; "
                       "null when it is theirs in their own right"})


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    next_cursor = fields.Int(allow_none=True, required=True,
                             metadata={"description": "Pass as cursor for the next page; null on the last page"})


class QueueSchema(Schema):
    items = fields.List(fields.Nested(QueueItemSchema), required=True)
    page = fields.Int(required=True)
    next_page = fields.Int(allow_none=True, required=True)


class CaseQuerySchema(Schema):
    state = fields.Str(validate=validate.Length(max=40))
    kind = fields.Str(validate=validate.Length(max=40))
    year = fields.Int(validate=validate.Range(100, 200), metadata={"description": "ROC year (民國年)"})
    cursor = fields.Int(validate=validate.Range(0, 2**31 - 1), metadata={
        "description": "next_cursor of the previous page (cases are listed newest first)"})
    limit = fields.Int(load_default=50, validate=validate.Range(1, LIST_MAX))


class QueueQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(1, PAGE_MAX))


class ActionSchema(Schema):
    trigger = fields.Str(required=True)
    label = fields.Str(required=True)
    to_state = fields.Str(required=True)
    to_state_label = fields.Str(required=True)
    needs_comment = fields.Bool(required=True)


class HistorySchema(Schema):
    seq = fields.Int(required=True)
    event = fields.Str(required=True)
    label = fields.Str(required=True)
    trigger = fields.Str(allow_none=True, required=True)
    from_state = fields.Str(allow_none=True, required=True)
    to_state = fields.Str(allow_none=True, required=True)
    at = fields.DateTime(required=True)
    actor = fields.Str(allow_none=True, required=True)
    on_behalf_of = fields.Str(allow_none=True, required=True)
    comment = fields.Str(allow_none=True, required=True)
    changed_fields = fields.List(fields.Str(), required=True)


class DocumentSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)
    label = fields.Str(required=True)
    version = fields.Int(required=True)
    status = fields.Str(required=True)
    created_at = fields.DateTime(required=True)
    sha256 = fields.Str(allow_none=True, required=True)
    downloads = fields.Dict(keys=fields.Str(), values=fields.Str(), required=True,
                            metadata={"description": "format (docx, odt, pdf) → URL (with the same bearer token)"})
    problem = fields.Str(allow_none=True, required=True)


class StepSchema(Schema):
    state = fields.Str(required=True)
    deadline = fields.Date(allow_none=True, required=True)
    limit_days = fields.Int(allow_none=True, required=True)
    used_days = fields.Int(required=True)
    stopped = fields.Bool(required=True)
    overdue = fields.Bool(required=True)


class CaseDetailSchema(CaseSummarySchema):
    period_label = fields.Str(required=True)
    final = fields.Bool(required=True)
    fields_ = fields.Dict(keys=fields.Str(), required=True, data_key="fields")
    submitted_by = fields.Str(allow_none=True, required=True)
    revision_count = fields.Int(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    step = fields.Nested(StepSchema, allow_none=True, required=True,
                         metadata={"description": "The current review step's own deadline (working days)"})
    actions = fields.List(fields.Nested(ActionSchema), required=True,
                          metadata={"description": "What this user may do now (POST .../transitions)"})
    history = fields.List(fields.Nested(HistorySchema), required=True)
    documents = fields.List(fields.Nested(DocumentSchema), required=True)


class NewCaseSchema(Schema):
    kind = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    unit_id = fields.Int(strict=True, validate=validate.Range(1, 2**31 - 1), metadata={
        "description": "Optional when the kind can be opened for one unit only"})
    roc_year = fields.Int(strict=True, required=True, validate=validate.Range(100, 200))
    period = fields.Str(allow_none=True, load_default=None, validate=validate.Length(max=8))
    title = fields.Str(required=True, validate=validate.Length(max=1000))
    fields_ = fields.Dict(keys=fields.Str(), load_default=dict, data_key="fields")


class FieldsPatchSchema(Schema):
    version = fields.Int(strict=True, required=True, validate=validate.Range(1, 2**31 - 1),
                         metadata={"description": "The version you read; a newer one answers 409"})
    fields_ = fields.Dict(keys=fields.Str(), load_default=dict, data_key="fields", metadata={
        "description": "Fields to change (JSON merge patch, top level): a value replaces, null removes"})
    title = fields.Str(validate=validate.Length(max=1000))


class SavedSchema(Schema):
    id = fields.Int(required=True)
    version = fields.Int(required=True)


class TransitionSchema(Schema):
    trigger = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    comment = fields.Str(allow_none=True, load_default=None, validate=validate.Length(max=COMMENT_MAX))
    version = fields.Int(strict=True, required=True, validate=validate.Range(1, 2**31 - 1))


class TransitionResultSchema(Schema):
    id = fields.Int(required=True)
    trigger = fields.Str(required=True)
    from_state = fields.Str(required=True)
    state = fields.Str(required=True)
    state_label = fields.Str(required=True)
    version = fields.Int(required=True)


# -- notifications ------------------------------------------------------------------------------
class NotificationSchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(allow_none=True, required=True, metadata={
        "description": "handoff (a case reached you or is done), due_soon, overdue, step_overdue; null: an older row"})
    subject = fields.Str(required=True, metadata={"description": "In the request's language"})
    body = fields.Str(required=True, metadata={"description": "In the request's language; a return's comment too"})
    case_id = fields.Int(allow_none=True, required=True)
    case_url = fields.Str(allow_none=True, required=True, metadata={"description": "GET it with the same token"})
    trigger = fields.Str(allow_none=True, required=True, metadata={"description": "A hand-off's transition"})
    on_behalf_of_id = fields.Int(allow_none=True, required=True, metadata={
        "description": "Set when you hold the case as a delegate (代理): for whom"})
    on_behalf_of = fields.Str(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True, required=True)


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    unread_count = fields.Int(required=True, metadata={"description": "All your unread notifications"})
    next_cursor = fields.Int(allow_none=True, required=True,
                             metadata={"description": "Pass as cursor for the next page; null on the last page"})


class NotificationQuerySchema(Schema):
    unread = fields.Bool(load_default=False, metadata={"description": "Only those not yet read"})
    cursor = fields.Int(validate=validate.Range(0, 2**31 - 1), metadata={
        "description": "next_cursor of the previous page (newest first)"})
    limit = fields.Int(load_default=50, validate=validate.Range(1, LIST_MAX))


class NotificationReadSchema(Schema):
    id = fields.Int(required=True)
    read_at = fields.DateTime(required=True)
# -- search -------------------------------------------------------------------------------------
class SearchQuerySchema(Schema):
    q = fields.Str(required=True, validate=validate.Length(max=1000), metadata={
        "description": "Words to find (all of them), in titles, fields and history comments; Chinese is found "
                       "by any part of a word. At most 100 characters and 8 words."})
    page = fields.Int(load_default=1, validate=validate.Range(1, 500))


class SearchHitSchema(Schema):
    id = fields.Int(required=True)
    kind = fields.Str(required=True)
    kind_label = fields.Str(required=True)
    title = fields.Str(required=True)
    state = fields.Str(required=True)
    state_label = fields.Str(required=True)
    unit_id = fields.Int(required=True)
    unit_name = fields.Str(required=True)
    roc_year = fields.Int(required=True)
    period = fields.Str(allow_none=True, required=True)
    url = fields.Str(required=True)
    matched_in = fields.Str(required=True, validate=validate.OneOf(["title", "fields", "comments"]),
                            metadata={"description": "Where the first word was found"})
    snippet = fields.Str(required=True, metadata={"description": "The text around it"})
    highlights = fields.List(fields.List(fields.Int()), required=True, metadata={
        "description": "[start, end) of each match in snippet (characters)"})


class SearchResultSchema(Schema):
    items = fields.List(fields.Nested(SearchHitSchema), required=True)
    total = fields.Int(required=True, metadata={"description": "Every case found, not only this page"})
    page = fields.Int(required=True)
    next_page = fields.Int(allow_none=True, required=True)
