"""Loading workflow declarations from ``workflow/kinds/*.toml``: resolved and validated.

A kind file names a line (``kinds/lines/*.toml``: states and transitions) and adds its fields, the
documents each state produces, who drafts it and its cycle. ``validate`` refuses unknown states,
roles, conditions, documents and tasks, unreachable states and dead ends.
"""

from __future__ import annotations

import re
import tomllib
from collections import deque
from pathlib import Path
from typing import Any

from workflow.engine.conditions import CONDITIONS
from workflow.engine.definitions import (
    CITY_PARTS,
    CYCLES,
    DOCUMENT_NAMES,
    FIELD_TYPES,
    TASK_TOPICS,
    Definition,
    FieldSpec,
    StateSpec,
    TransitionSpec,
    field_from_dict,
)
from workflow.errors import WorkflowDefinitionError
from workflow.roles import ALL_ROLES, SYSTEM

KINDS_DIR = Path(__file__).parent.parent / "kinds"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

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
            city=str(s.get("city", "")),
            delivers=bool(s.get("delivers", False)),
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
        fields = tuple(field_from_dict(f) for f in raw.get("fields", []))
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
        if s.city and s.city not in CITY_PARTS:
            raise WorkflowDefinitionError(kind, f"state {s.name!r}: city must be one of {sorted(CITY_PARTS)}")
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


VARIANT_KEYS = {"label", "label_en", "lines"}


def load_variants(kinds_dir: Path = KINDS_DIR) -> dict[str, dict[str, Definition]]:
    """An office's own variant of some workflows (``kinds/variants/<name>/variant.toml``): it names the
    lines it replaces (``[lines] main = "main_council"``), and every kind on a replaced line gets a
    definition of its own for offices of that variant; the other kinds are as everywhere."""
    out: dict[str, dict[str, Definition]] = {}
    for path in sorted((kinds_dir / "variants").glob("*/variant.toml")):
        name = path.parent.name
        if not _NAME.match(name):
            raise WorkflowDefinitionError(name, "a variant's folder must be lower_snake_case")
        raw = _read_toml(path, name)
        unknown = sorted(set(raw) - VARIANT_KEYS)
        if unknown:
            raise WorkflowDefinitionError(name, f"variant.toml: unknown keys {unknown}")
        lines: dict[str, str] = dict(raw.get("lines", {}))
        kinds: dict[str, Definition] = {}
        for kind_path in sorted(kinds_dir.glob("*.toml")):
            kind_raw = _read_toml(kind_path, kind_path.stem)
            if kind_raw.get("line") in lines:
                kinds[kind_path.stem] = resolve({**kind_raw, "line": lines[kind_raw["line"]]}, kinds_dir)
        if not kinds:
            raise WorkflowDefinitionError(name, f"variant replaces lines {sorted(lines)} that no kind uses")
        out[name] = kinds
    return out


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
