"""Which version of each kind's workflow is current, and every version ever used.

The files in ``kinds/`` are the current definitions; ``kinds/variants/`` holds an office's own
variant of some of them (an office names its variant in ``offices.workflow_variant``). ``sync``
stores each definition whose fingerprint is new as the next version of its kind, so a changed
definition, or a variant's, becomes a version of its own while cases already under way keep the
version they started on (read back from ``workflow_versions``).
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.db import Database
from workflow.engine.definitions import Definition
from workflow.engine.loader import load_files, load_variants
from workflow.errors import NotFound
from workflow.models import WorkflowVersion


class Registry:
    def __init__(self, files: dict[str, Definition] | None = None,
                 variants: dict[str, dict[str, Definition]] | None = None) -> None:
        self._files = files
        self._variants = variants if variants is not None or files is None else {}
        self._lock = threading.Lock()
        self._current: dict[str, int] = {}
        self._variant_current: dict[tuple[str, str], int] = {}
        self._by_version: dict[tuple[str, int], Definition] = {}
        self._synced_url: str | None = None
        self._stored: tuple[str, list[tuple[str, int]]] | None = None  # (db url, every stored version)

    @property
    def files(self) -> dict[str, Definition]:
        if self._files is None:
            self._files = load_files()
        return self._files

    @property
    def variants(self) -> dict[str, dict[str, Definition]]:
        """variant name -> the kinds it has its own definition of."""
        if self._variants is None:
            self._variants = load_variants()
        return self._variants

    def kinds(self) -> list[str]:
        return sorted(self.files)

    def current_definitions(self) -> list[Definition]:
        """Every current definition: each kind's, and each office variant's."""
        return [*self.files.values(), *(d for kinds in self.variants.values() for d in kinds.values())]

    def latest(self, kind: str, variant: str = "") -> Definition:
        """The current definition of ``kind``, an office's variant of it where it has one."""
        own = self.variants.get(variant, {}).get(kind) if variant else None
        if own is not None:
            return own
        try:
            return self.files[kind]
        except KeyError:
            raise NotFound(
                f"沒有「{kind}」這類案件；可用的類別：{', '.join(self.kinds())}",
                f"unknown case kind {kind!r}; known kinds: {', '.join(self.kinds())}",
            ) from None

    def sync(self, db: Database) -> dict[str, int]:
        """Store new definitions (every variant's too) as new versions; return kind -> current version."""
        with self._lock:
            if self._synced_url == db.url:
                return dict(self._current)
            current: dict[str, int] = {}
            for kind, d in self.files.items():
                current[kind] = self._register(db, d, "")
                self._by_version[(kind, current[kind])] = d
            variant_current: dict[tuple[str, str], int] = {}
            for name, kinds in sorted(self.variants.items()):
                for kind, d in kinds.items():
                    variant_current[(kind, name)] = self._register(db, d, name)
                    self._by_version[(kind, variant_current[(kind, name)])] = d
            self._current, self._variant_current = current, variant_current
            self._synced_url = db.url
            return dict(current)

    def _register(self, db: Database, d: Definition, variant: str) -> int:
        fp = d.fingerprint()
        for _attempt in range(3):
            with db.unit_of_work() as uow:
                s = uow.session
                found = s.scalar(select(WorkflowVersion.version).where(
                    WorkflowVersion.kind == d.kind, WorkflowVersion.fingerprint == fp))
                if found is not None:
                    return found
                top = s.scalar(select(func.max(WorkflowVersion.version)).where(WorkflowVersion.kind == d.kind))
                version = (top or 0) + 1
                s.add(WorkflowVersion(kind=d.kind, version=version, fingerprint=fp, definition=d.to_dict(),
                                      variant=variant))
                try:
                    uow.commit()
                    self._stored = None
                    return version
                except IntegrityError:
                    continue  # another process registered it at the same moment; read it back
        raise RuntimeError(f"could not register workflow {d.kind}")

    def current_version(self, db: Database, kind: str, variant: str = "") -> int:
        """The version a case of ``kind`` opened now starts on, in an office of ``variant``."""
        self.latest(kind)
        current = self.sync(db)[kind]
        return self._variant_current.get((kind, variant), current) if variant else current

    def get(self, db: Database, kind: str, version: int, session: Session | None = None) -> Definition:
        """The definition a case runs on. Pass the caller's session when inside a unit of work:
        opening a second writer there would deadlock SQLite."""
        key = (kind, version)
        d = self._by_version.get(key)
        if d is not None:
            return d
        query = select(WorkflowVersion.definition).where(
            WorkflowVersion.kind == kind, WorkflowVersion.version == version)
        if session is not None:
            row = session.scalar(query)
        else:
            with db.unit_of_work(write=False) as uow:
                row = uow.session.scalar(query)
        if row is None:
            raise NotFound(f"找不到流程 {kind} 第 {version} 版", f"no workflow {kind} version {version}")
        d = Definition.from_dict(row)
        self._by_version[key] = d  # versions never change once stored
        return d

    def stored_versions(self, db: Database, session: Session) -> list[tuple[str, int]]:
        """(kind, version) of every version stored, read once per process.

        Versions are only ever added, and only by ``sync`` when the definition files change, i.e.
        by a process running new code: this process adds its own (and forgets the list when it
        does); one started later with other files is a deployment, which restarts this one.
        """
        stored = self._stored
        if stored is not None and stored[0] == db.url:
            return stored[1]
        rows = [(str(k), int(v)) for k, v in session.execute(
            select(WorkflowVersion.kind, WorkflowVersion.version).order_by(WorkflowVersion.kind,
                                                                           WorkflowVersion.version))]
        self._stored = (db.url, rows)
        return rows

    def forget_sync(self) -> None:
        """For tests that recreate the schema."""
        with self._lock:
            self._synced_url = None
            self._stored = None
            self._current.clear()
            self._variant_current.clear()
            self._by_version.clear()


_default = Registry()


def default() -> Registry:
    return _default
