"""The plan's facts as records: the task force's members and meetings (the one-third rule, quorum,
decisions), training hours (性別意識培力), outreach events and gender budgets. Documents and result
tables read their figures from here, never from numbers typed into a case.
"""
