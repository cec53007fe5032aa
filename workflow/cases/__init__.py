"""The service layer: the only way a case changes, one use case and one transaction each.

``approval`` fires transitions (submit, approve, return, withdraw, file) after the role, 代理 and
condition checks; ``drafts`` opens cases and saves their fields and attachments; ``posting`` edits
web postings and keeps the secretariat's failure queue. All write through ``writes``: the
compare-and-set on the case's version, its hash-chained history row and the outbox, committed once.
"""
