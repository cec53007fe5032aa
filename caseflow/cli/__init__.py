"""``caseflow``: set up, run and inspect the product from the command line.

Bad input (unknown case, user, trigger or kind; a field that fails validation) prints one clear
line on stderr and exits 2, never a traceback.

One module per command group (``processes``, ``people``, ``cases``, ``workflows``, ``bench``,
``documents``, ``plan``, ``registers``, ``health``); the group itself and what they share is ``base``.
"""

from caseflow.cli import (  # noqa: F401  (registers the commands)
    bench,
    cases,
    documents,
    health,
    people,
    plan,
    processes,
    registers,
    workflows,
)
from caseflow.cli.base import main

__all__ = ["main"]
