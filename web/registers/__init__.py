"""The registers' pages (the plan's facts, ``workflow.registers``): 培力紀錄 (``training``), 宣導紀錄
(``outreach``) and 性別預算 (``budget``), one blueprint each; what they share (the year asked
for) is in ``common``; ``sources`` links a result table's totals to the register rows behind them.

The task force register lives with the task force's page (``web.task_force``).
"""

from web.registers import budget, outreach, sources, training

BLUEPRINTS = (training.bp, outreach.bp, budget.bp)

__all__ = ["BLUEPRINTS", "budget", "outreach", "sources", "training"]
