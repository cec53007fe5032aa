"""Engine, sessions and the unit of work.

One ``Database`` per process. A unit of work commits only when ``commit()`` is called and rolls back
otherwise, so an operation never commits halfway. On SQLite a writing unit of work starts with
``BEGIN IMMEDIATE`` (SQLAlchemy's recipe): pysqlite's deferred BEGIN would let two writers read the
same version and then fail late with "database is locked".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the user gave."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("caseflow_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
            if ":memory:" in self.url or self.url in ("sqlite://", "sqlite:///"):
                kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = 10
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _setup_sqlite(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(
        self, *, write: bool = True, durable: bool = True, one_statement: bool = False
    ) -> Iterator[UnitOfWork]:
        """One transaction. ``durable=False`` is for a background worker's bookkeeping that is safe
        to lose and redo (an idempotent consumer whose outbox row stays unprocessed until its effect
        commits): on PostgreSQL the commit then does not wait for the WAL flush
        (``synchronous_commit=off`` for this transaction only; a crash can lose the last fraction of
        a second of such commits, never corrupt anything, and the outbox sweep redoes them). SQLite
        already runs WAL with ``synchronous=NORMAL``.

        ``one_statement=True``: the unit reads, then writes everything in a single statement (a
        transition: ``cases.one_trip``). On PostgreSQL that statement is then its own transaction,
        committed durably when it completes (so no BEGIN and no COMMIT round trip), and each read
        before it sees what was committed when it ran: what READ COMMITTED gives the statements of
        one transaction anyway. ``commit()`` is still called; it sends nothing. Elsewhere (SQLite:
        BEGIN IMMEDIATE, the write lock before any read) an ordinary transaction."""
        session = self.sessions()
        if write:
            options: dict[str, Any] = {"caseflow_write": True}
            if one_statement and self.dialect == "postgresql":
                options["isolation_level"] = "AUTOCOMMIT"
            # Procure the connection now so SQLite's BEGIN IMMEDIATE is issued before any read.
            conn = session.connection(execution_options=options)
            if not durable and conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        uow = UnitOfWork(session)
        try:
            yield uow
            if not write:
                _end_read(session)
        finally:
            # close() ends the transaction (rolling it back) and detaches objects without expiring
            # them, so rows read in a read-only unit stay usable after the block; an uncommitted
            # write is rolled back explicitly so nothing it changed survives even in memory.
            if write and not uow.committed:
                session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def count_statements(self) -> Iterator[list[int]]:
        """Count the SQL statements sent while the block runs (``n[0]``): for the tests and
        benchmarks that hold a page to a constant number of queries."""
        n = [0]

        def count(*_args: Any) -> None:
            n[0] += 1

        event.listen(self.engine, "before_cursor_execute", count)
        try:
            yield n
        finally:
            event.remove(self.engine, "before_cursor_execute", count)


def _end_read(session: Session) -> None:
    """End a read-only unit that ran to its end with COMMIT rather than ROLLBACK: the same for a
    transaction that wrote nothing, but psycopg forgets every statement it prepared on the
    connection when it sees a ROLLBACK, so each web request (whose read session ends here) would
    have PostgreSQL plan its statements anew. A session holding changes, or a failed commit, is
    left to close(), which rolls back."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    try:
        session.commit()
    except SQLAlchemyError:  # e.g. the connection died: close() cleans up, the caller's work is done
        log.warning("a read-only transaction could not be committed; rolled back", exc_info=True)


class UnitOfWork:
    """A session that is committed once, explicitly, or rolled back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.committed = False

    def commit(self) -> None:
        self.session.commit()
        self.committed = True


_default: Database | None = None


def configure(url: str, **kwargs: Any) -> Database:
    """Set the process-wide database used when an operation is not given one."""
    global _default
    if _default is not None and _default.url == normalise_url(url):
        return _default
    if _default is not None:
        _default.dispose()
    _default = Database(url, **kwargs)
    return _default


def default() -> Database:
    if _default is None:
        from workflow.config import load_settings

        return configure(load_settings().database_url)
    return _default


def reset_default() -> None:
    global _default
    if _default is not None:
        _default.dispose()
    _default = None
