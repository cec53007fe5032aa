"""caseflow's core, one package per concern; nothing here imports ``web``, ``tasks``, ``documents``
or ``publishing``.

- ``engine/``: what a workflow is: declarations (``definitions``, ``loader``), named conditions,
  field checks, the shared state machine, versions (``registry``) and the hash-chained history
  (``audit``). Imports no other package of ``workflow``.
- ``people/``: offices, units, users, roles, delegations (代理), who may act (``permissions``), who
  holds a case now (``holders``), passwords, API tokens and the admin log.
- ``cases/``: the service layer, the only way a case changes: ``approval`` (transitions),
  ``drafts`` (create, edit, attachments), ``posting`` (web postings), all through ``writes``.
- ``calendar/``: the plan's calendar: obligations and periods (``plan``), working days, deadlines,
  reminders.
- ``views/``: what pages read: queues (我的工作), the liaison's board, the notification inbox.
- ``registers/``: the plan's facts (task force, meetings, training, outreach, budgets).
- ``models/``: the tables, shared by all of the above; ``migrations/``: their Alembic history;
  ``kinds/``: the declared workflows (TOML).

Top-level modules are what every package shares: settings (``config``), the database (``db``,
``migrate``), the clock, ROC dates, typed errors, role names, file storage, and the demo office.
Packages depend downward only: calendar/views → cases → people → engine.
"""
