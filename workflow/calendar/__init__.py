"""The plan's calendar: what the plan obliges each office to deliver and when (``plan``, which opens
a year's cases), working days with Taiwan's holidays and office closures (``workdays``), step
deadlines (``deadlines``) and the reminders sent when a case is due or overdue (``reminders``).
"""
