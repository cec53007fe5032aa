"""One shared pytransitions Machine per (kind, workflow version), used to validate and apply a trigger.

Never a Machine per case: that costs ~64 kB and a reference cycle per row, and ``add_model``
without ``remove_model`` leaks. Cases are not added to the machine at all; a trigger is fired on a
two-slot token holding the state read from the row, so loading a case never resets its state, and
no callback does I/O (there are none). Conditions and roles are checked by ``cases.approval`` first,
so a refusal can say in words which one failed.
"""

from __future__ import annotations

import threading

from transitions import Machine, MachineError, State

from workflow.engine.definitions import Definition


class _Token:
    """The model handed to the shared machine for one trigger: just the state."""

    __slots__ = ("__weakref__", "state")

    def __init__(self, state: str) -> None:
        self.state = state


_machines: dict[tuple[str, str], Machine] = {}
_lock = threading.Lock()


def machine_for(defn: Definition) -> Machine:
    key = (defn.kind, defn.fp)
    m = _machines.get(key)
    if m is None:
        with _lock:
            m = _machines.get(key)
            if m is None:
                m = Machine(
                    model=None,
                    states=[State(s.name, final=s.final) for s in defn.states],
                    transitions=[
                        {"trigger": t.trigger, "source": t.source, "dest": t.dest} for t in defn.transitions
                    ],
                    initial=defn.initial,
                    auto_transitions=False,
                    ignore_invalid_triggers=False,
                    model_attribute="state",
                    name=f"{defn.kind}: ",
                )
                _machines[key] = m
    return m


def apply(defn: Definition, state: str, trigger: str) -> str | None:
    """The state ``trigger`` leads to from ``state``, or None if the machine refuses it."""
    m = machine_for(defn)
    event = m.events.get(trigger)
    if event is None:
        return None
    token = _Token(state)
    try:
        ok = event.trigger(token)
    except MachineError:
        return None
    return token.state if ok else None


def machine_count() -> int:
    return len(_machines)
