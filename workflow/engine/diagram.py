"""State diagrams with a case's current state marked, via pytransitions' GraphMachine (Mermaid)."""

from __future__ import annotations

from transitions.extensions import GraphMachine

from workflow.engine.definitions import Definition


class _Model:
    state: str


def mermaid(defn: Definition, current: str | None = None) -> str:
    """Mermaid ``stateDiagram-v2`` text; the current state (if given) is drawn as active.

    The start arrow ``[*] -->`` always points at the workflow's initial state: the case is put in
    its current state after the machine is built, not by pretending the workflow starts there.
    """
    model = _Model()
    machine = GraphMachine(
        model=model,
        states=[s.name for s in defn.states],
        transitions=[{"trigger": t.trigger, "source": t.source, "dest": t.dest} for t in defn.transitions],
        initial=defn.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"{defn.kind} ({defn.label})",
        show_state_attributes=False,
    )
    if current is not None:
        machine.set_state(current, model)
    text: str = model.get_graph(force_new=True).draw(None)  # type: ignore[attr-defined]
    if current is None:
        text = text.replace(f"Class {defn.initial} s_active", f"Class {defn.initial} s_default")
    return text
