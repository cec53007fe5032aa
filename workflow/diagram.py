"""State diagrams with a case's current state marked, via pytransitions' GraphMachine (Mermaid)."""

from __future__ import annotations

from transitions.extensions import GraphMachine

from workflow.definitions import Definition


class _Model:
    state: str


def mermaid(defn: Definition, current: str | None = None) -> str:
    """Mermaid ``stateDiagram-v2`` text; the current state (if given) is drawn as active."""
    model = _Model()
    GraphMachine(
        model=model,
        states=[s.name for s in defn.states],
        transitions=[{"trigger": t.trigger, "source": t.source, "dest": t.dest} for t in defn.transitions],
        initial=current or defn.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"{defn.kind} ({defn.label})",
        show_state_attributes=False,
    )
    text: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
    if current is None:
        text = text.replace(f"Class {defn.initial} s_active", f"Class {defn.initial} s_default")
    return text
