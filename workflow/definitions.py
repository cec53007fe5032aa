"""Workflow declarations: loaded from ``workflow/kinds/*.toml``, resolved, validated, fingerprinted.

A kind file names a line (``kinds/lines/*.toml``: states and transitions) and adds its fields, the
documents each state produces, who drafts it and its cycle. The resolved definition is plain data;
its sha256 fingerprint decides whether it is a new version (see ``registry``).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections import deque
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from workflow.errors import WorkflowDefinitionError
from workflow.roles import ALL_ROLES, SYSTEM

KINDS_DIR = Path(__file__).parent / "kinds"

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
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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

    def actor_roles(self, state: str) -> set[str]:
        """Roles that can move a case on from ``state`` (withdrawal aside): whose queue it is in."""
        return {r for t in self.transitions_from(state) if t.trigger != "withdraw" for r in t.roles}

    # -- serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("_index")
        for s in d["states"]:  # absent when empty, so states without tasks keep their fingerprint
            if not s["tasks"]:
                del s["tasks"]
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
            fields=tuple(_field_from_dict(f) for f in d["fields"]),
        )


def _field_from_dict(f: dict[str, Any]) -> FieldSpec:
    f = dict(f)
    f["choices"] = tuple(f.get("choices", ()))
    f["columns"] = tuple(_field_from_dict(c) for c in f.get("columns", ()))
    return FieldSpec(**f)


# -- loading ----------------------------------------------------------------------------------
def _read_toml(path: Path, kind: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise WorkflowDefinitionError(kind, f"file {path.name} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowDefinitionError(kind, f"{path.name} is not valid TOML: {exc}") from None


def resolve(raw: dict[str, Any], kinds_dir: Path = KINDS_DIR) -> Definition:
    """Turn a kind file's data into a validated Definition."""
    kind = str(raw.get("kind") or "?")
    for key in ("kind", "label", "label_en", "cycle", "line"):
        if not raw.get(key):
            raise WorkflowDefinitionError(kind, f"missing {key!r}")
    known_keys = {"kind", "label", "label_en", "plan_ref", "cycle", "line", "default_unit",
                  "min_attachments", "drafter_roles", "documents", "fields"}
    unknown = sorted(set(raw) - known_keys)
    if unknown:
        raise WorkflowDefinitionError(kind, f"unknown keys {unknown}")
    line = _read_toml(kinds_dir / "lines" / f"{raw['line']}.toml", kind)
    drafter_roles = tuple(raw.get("drafter_roles", ["staff"]))
    documents: dict[str, list[str]] = raw.get("documents", {})
    if any(not s.get("name") for s in line.get("states", [])):
        raise WorkflowDefinitionError(kind, f"line {raw['line']!r} declares a state without a name")
    state_names = {s.get("name") for s in line.get("states", [])}
    for st in documents:
        if st not in state_names:
            raise WorkflowDefinitionError(kind, f"documents given for unknown state {st!r}")
    states = tuple(
        StateSpec(
            name=s["name"],
            label=s.get("label", s["name"]),
            label_en=s.get("label_en", s["name"]),
            final=bool(s.get("final", False)),
            documents=tuple(documents.get(s["name"], ())),
            tasks=tuple(s.get("tasks", ())),
        )
        for s in line.get("states", [])
    )
    transitions: list[TransitionSpec] = []
    for t in line.get("transitions", []):
        roles: list[str] = []
        for r in t.get("roles", []):
            roles.extend(drafter_roles if r == "@drafter" else [r])
        sources = t.get("source", [])
        for src in [sources] if isinstance(sources, str) else sources:
            transitions.append(
                TransitionSpec(
                    trigger=t.get("trigger", ""),
                    source=src,
                    dest=t.get("dest", ""),
                    roles=tuple(roles),
                    conditions=tuple(t.get("conditions", ())),
                )
            )
    try:
        fields = tuple(_field_from_dict(f) for f in raw.get("fields", []))
    except TypeError as exc:
        raise WorkflowDefinitionError(kind, f"bad field declaration: {exc}") from None
    d = Definition(
        kind=kind,
        label=raw["label"],
        label_en=raw["label_en"],
        plan_ref=raw.get("plan_ref", ""),
        cycle=raw["cycle"],
        default_unit=raw.get("default_unit", ""),
        initial=line.get("initial", ""),
        min_attachments=int(raw.get("min_attachments", 0)),
        drafter_roles=drafter_roles,
        states=states,
        transitions=tuple(transitions),
        fields=fields,
    )
    validate(d)
    return d


def validate(d: Definition) -> None:
    """Refuse a definition with unknown or unreachable states, dead ends, unknown roles or conditions."""
    from workflow.conditions import CONDITIONS  # the registry of named checks

    kind = d.kind
    if not _NAME.match(kind):
        raise WorkflowDefinitionError(kind, "kind must be lower_snake_case")
    if d.cycle not in CYCLES:
        raise WorkflowDefinitionError(kind, f"unknown cycle {d.cycle!r}; use one of {sorted(CYCLES)}")
    names = [s.name for s in d.states]
    if not names:
        raise WorkflowDefinitionError(kind, "no states declared")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise WorkflowDefinitionError(kind, f"states declared twice: {dupes}")
    known = set(names)
    if d.initial not in known:
        raise WorkflowDefinitionError(kind, f"initial state {d.initial!r} is not a declared state")
    seen: set[tuple[str, str]] = set()
    for t in d.transitions:
        where = f"transition {t.trigger!r} from {t.source!r}"
        if not t.trigger or not _NAME.match(t.trigger):
            raise WorkflowDefinitionError(kind, f"{where}: trigger must be lower_snake_case")
        if t.trigger in known:
            raise WorkflowDefinitionError(kind, f"{where}: trigger has the name of a state")
        if t.source not in known:
            raise WorkflowDefinitionError(kind, f"{where}: unknown source state {t.source!r}")
        if t.dest not in known:
            raise WorkflowDefinitionError(kind, f"{where}: unknown destination state {t.dest!r}")
        if (t.trigger, t.source) in seen:
            raise WorkflowDefinitionError(kind, f"{where}: declared twice")
        seen.add((t.trigger, t.source))
        if not t.roles:
            raise WorkflowDefinitionError(kind, f"{where}: no roles may fire it")
        for r in t.roles:
            if r not in ALL_ROLES and r != SYSTEM:
                raise WorkflowDefinitionError(kind, f"{where}: unknown role {r!r}")
        for c in t.conditions:
            if c not in CONDITIONS:
                raise WorkflowDefinitionError(kind, f"{where}: unknown condition {c!r}")
        if t.trigger == "return_for_revision" and "comment_given" not in t.conditions:
            raise WorkflowDefinitionError(kind, f"{where}: returning for revision must require a comment")
    for s in d.states:
        outgoing = d.transitions_from(s.name)
        if s.final and outgoing:
            raise WorkflowDefinitionError(kind, f"final state {s.name!r} has outgoing transitions")
        if not s.final and not outgoing:
            raise WorkflowDefinitionError(kind, f"state {s.name!r} is a dead end (not final, no way out)")
        for doc in s.documents:
            if doc not in DOCUMENT_NAMES:
                raise WorkflowDefinitionError(kind, f"state {s.name!r}: unknown document {doc!r}")
        for task in s.tasks:
            if task not in TASK_TOPICS:
                raise WorkflowDefinitionError(kind, f"state {s.name!r}: unknown task {task!r}")
    reachable = _reach(d.initial, {(t.source, t.dest) for t in d.transitions})
    unreachable = [n for n in names if n not in reachable]
    if unreachable:
        raise WorkflowDefinitionError(kind, f"states not reachable from {d.initial!r}: {unreachable}")
    finals = [s.name for s in d.states if s.final]
    if not finals:
        raise WorkflowDefinitionError(kind, "no final state")
    back = set().union(*(_reach(f, {(t.dest, t.source) for t in d.transitions}) for f in finals))
    trapped = [n for n in names if n not in back]
    if trapped:
        raise WorkflowDefinitionError(kind, f"no final state can be reached from {trapped}")
    _validate_fields(kind, d.fields, nested=False)


def _reach(start: str, edges: set[tuple[str, str]]) -> set[str]:
    out: set[str] = {start}
    todo = deque([start])
    while todo:
        cur = todo.popleft()
        for a, b in edges:
            if a == cur and b not in out:
                out.add(b)
                todo.append(b)
    return out


def _validate_fields(kind: str, fields: tuple[FieldSpec, ...], *, nested: bool) -> None:
    names = [f.name for f in fields]
    if len(names) != len(set(names)):
        raise WorkflowDefinitionError(kind, f"field names repeat: {names}")
    for f in fields:
        if not _NAME.match(f.name):
            raise WorkflowDefinitionError(kind, f"field {f.name!r}: name must be lower_snake_case")
        if f.type not in FIELD_TYPES:
            raise WorkflowDefinitionError(kind, f"field {f.name!r}: unknown type {f.type!r}")
        if f.type == "choice" and not f.choices:
            raise WorkflowDefinitionError(kind, f"field {f.name!r}: a choice needs choices")
        if f.type == "rows":
            if nested:
                raise WorkflowDefinitionError(kind, f"field {f.name!r}: rows cannot nest")
            if not f.columns:
                raise WorkflowDefinitionError(kind, f"field {f.name!r}: rows need columns")
            _validate_fields(kind, f.columns, nested=True)


def load_files(kinds_dir: Path = KINDS_DIR) -> dict[str, Definition]:
    """Every kind declared in ``kinds_dir``, validated; the first problem raises."""
    out: dict[str, Definition] = {}
    for path in sorted(kinds_dir.glob("*.toml")):
        raw = _read_toml(path, path.stem)
        d = resolve(raw, kinds_dir)
        if d.kind != path.stem:
            raise WorkflowDefinitionError(d.kind, f"declared in {path.name}; the file must be {d.kind}.toml")
        out[d.kind] = d
    return out
