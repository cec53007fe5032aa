"""People and access: offices, units and users (``directory``), roles and delegations (代理), what a
user may do (``permissions``: capacities today, unit-scoped roles), who holds a case now
(``holders``), password hashing, API tokens and the admin log (``admin_log``). Depends on
``engine`` only for a definition's roles; a change to who may do what goes here.
"""
