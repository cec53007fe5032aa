"""caseflow's core: case models, declared workflows, permissions and the operations that change state.

Nothing in this package imports from ``web``, ``tasks`` or ``documents``.
"""
