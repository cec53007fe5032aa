"""What pages read, as queries with a fixed number of statements: the queue of cases a user can act
on now (``queues``: 我的工作, the chief's queue included), the liaison's board of overdue cases and
its charts (``board``), and a person's notifications (``inbox``). Nothing here writes.
"""
