"""Workflow declarations as plain data: a kind's states, transitions, fields and documents.

The small core every other engine module depends on (conditions, field checks, the machine); it
imports none of them. Reading and validating the kind files is ``loader``. A definition's sha256
fingerprint decides whether it is a new version (see ``registry``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

CYCLES = frozenset({"quarterly", "yearly", "yearly_or_adhoc", "adhoc"})
FIELD_TYPES = frozenset({"text", "textarea", "int", "decimal", "date", "choice", "bool", "rows"})
# The documents the documents package knows how to render (names only here).
DOCUMENT_NAMES = frozenset(
    {
        "sign_memo",
        "training_results",
        "outreach_results",
        "annual_results",
        "budget_review_table",
        "meeting_notice",
        "meeting_minutes",
        "amendment_table",
        "city_letter",
    }
)
# Background tasks a state may start on entry (``tasks = [...]`` on a state in a line file), and the
# outbox topic each one is written under, in the transition's own transaction.
TASK_TOPICS = {"publish_posting": "posting.publish"}
CITY_PARTS = frozenset({"holds", "sees"})
DRAFTER_EXITS = frozenset({"withdraw", "take_back"})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    label_en: str
    type: str
    required: bool = False
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    min_rows: int = 0
    max_rows: int = 1000
    columns: tuple[FieldSpec, ...] = ()


@dataclass(frozen=True)
class StateSpec:
    name: str
    label: str
    label_en: str
    final: bool = False
    documents: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()  # names in TASK_TOPICS, started when a case enters the state
    # The city group's part (CITY_PARTS): "holds" while the case is with the city for review (the
    # office's deadline is met, its people are not reminded), "sees" where the city may still read
    # it (e.g. acknowledged); "" for the office's own states.
    city: str = ""
    # Entering it delivers the case: what the plan asked of the office is done (filed with the city,
    # published), so its deadline is met and its people are no longer reminded.
    delivers: bool = False


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    source: str
    dest: str
    roles: tuple[str, ...]
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    kind: str
    label: str
    label_en: str
    plan_ref: str
    cycle: str
    default_unit: str
    initial: str
    min_attachments: int
    drafter_roles: tuple[str, ...]
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    fields: tuple[FieldSpec, ...]
    _index: dict[tuple[str, str], TransitionSpec] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        self._index.update({(t.trigger, t.source): t for t in self.transitions})

    # -- lookups ----------------------------------------------------------------------------
    def state(self, name: str) -> StateSpec:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    def transition(self, trigger: str, source: str) -> TransitionSpec | None:
        return self._index.get((trigger, source))

    def transitions_from(self, source: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if t.source == source]

    def triggers(self) -> list[str]:
        return sorted({t.trigger for t in self.transitions})

    def is_recurring(self) -> bool:
        return self.cycle != "adhoc"

    def delivering_states(self) -> frozenset[str]:
        return frozenset(st.name for st in self.states if st.delivers)

    def city_states(self) -> frozenset[str]:
        """States in which the city group holds or may read a case."""
        return frozenset(st.name for st in self.states if st.city)

    def actor_roles(self, state: str) -> set[str]:
        """Roles that can move a case on from ``state``: whose queue it is in. The drafter's own ways
        out of a step (withdrawing, taking a submitted case back) do not make it theirs to do."""
        return {r for t in self.transitions_from(state) if t.trigger not in DRAFTER_EXITS for r in t.roles}

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("_index")
        for s in d["states"]:  # absent when empty, so states without them keep their fingerprint
            if not s["tasks"]:
                del s["tasks"]
            if not s["city"]:
                del s["city"]
            if not s["delivers"]:
                del s["delivers"]
        return d

    @cached_property
    def fp(self) -> str:
        return self.fingerprint()

    def fingerprint(self) -> str:
        canonical = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Definition:
        return cls(
            kind=d["kind"],
            label=d["label"],
            label_en=d["label_en"],
            plan_ref=d.get("plan_ref", ""),
            cycle=d["cycle"],
            default_unit=d.get("default_unit", ""),
            initial=d["initial"],
            min_attachments=int(d.get("min_attachments", 0)),
            drafter_roles=tuple(d["drafter_roles"]),
            states=tuple(StateSpec(**{**s, "documents": tuple(s.get("documents", ())),
                                      "tasks": tuple(s.get("tasks", ()))}) for s in d["states"]),
            transitions=tuple(
                TransitionSpec(
                    trigger=t["trigger"],
                    source=t["source"],
                    dest=t["dest"],
                    roles=tuple(t["roles"]),
                    conditions=tuple(t.get("conditions", ())),
                )
                for t in d["transitions"]
            ),
            fields=tuple(field_from_dict(f) for f in d["fields"]),
        )


def field_from_dict(f: dict[str, Any]) -> FieldSpec:
    f = dict(f)
    f["choices"] = tuple(f.get("choices", ()))
    f["columns"] = tuple(field_from_dict(c) for c in f.get("columns", ()))
    return FieldSpec(**f)
