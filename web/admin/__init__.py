"""管理: an office's administrators keep its units, people, roles, delegations, the calendar's
reference data and the document templates. Only users holding ``admin`` in their office see it
(403 for others); objects of another office answer 404 (ids reveal nothing).

Every change is written in one unit of work together with its ``admin_events`` row
(``workflow.admin_log.record``). A refused form is shown again (422) with a zh-TW message next to
the field and everything typed kept (passwords excepted, as browsers do).

One module per page (``office``, ``users``, ``delegations``, ``calendar``, ``course_codes``,
``templates``), the shared parts in ``common``; a new admin page is a new module here, imported below.
"""

from web.admin import calendar, course_codes, delegations, office, templates, users  # noqa: F401  (registers routes)
from web.admin.common import bp

__all__ = ["bp"]
