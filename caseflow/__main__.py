"""`python -m caseflow`: the same command line as the `caseflow` script."""

from caseflow.cli import main

main()
