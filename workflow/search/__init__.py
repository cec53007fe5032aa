"""Search over cases: the words of a query (``text``: folding, words, index terms) and the cases a
person may read that contain them (``find``: one page and the total, in one statement). The index
itself is the database's (migration 0018): triggers keep it in the writer's own transaction.
"""
