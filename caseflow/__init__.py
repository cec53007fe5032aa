"""The caseflow command line and benchmarks: the top floor, which knows every package."""
