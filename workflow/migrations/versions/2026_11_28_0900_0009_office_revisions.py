"""office revisions: a counter per office that the database raises on every change its pages show

The web app keeps a rendered page (我的工作) for as long as nothing it shows has changed
(``web.page_cache``). "Nothing has changed" must be exact, whoever wrote: a transition, an
administrator, a worker, a script, someone in psql. So the database keeps the count: every
INSERT, UPDATE or DELETE on a table the pages read raises ``office_revisions.revision`` of the
row's office, in the writer's own transaction. Tables every office reads (step limits, workflow
versions, the plan) and city-wide closures raise row 0. An office's revision is the sum of its
row and row 0.

The counter only moves forward: its rows refuse DELETE and TRUNCATE, and a row starts at a random
number, so a counter dropped and made again (a downgrade and upgrade) does not repeat the numbers
of the old one that running processes may still hold pages under. A restored backup does go back:
restart the web processes after restoring one.

On PostgreSQL the triggers are deferred constraint triggers: they run at commit, after the
transaction's other writes, and raise each office once per transaction. The counter row is then
locked only for the moment of the commit, so writers of one office do not queue behind each
other's whole transactions. A transaction that writes rows of two offices locks their two counter
rows at commit, in the order it wrote them; two such transactions writing the same two offices in
opposite orders can deadlock there (PostgreSQL then rolls one back). The application never writes
two offices in one transaction; a script that does should write one office at a time. TRUNCATE,
which row triggers miss, raises row 0. SQLite serialises writers anyway: plain AFTER triggers.

Written by hand (a table and its triggers).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Tables whose rows belong to one office (their office_id; NULL means every office).
BY_OFFICE = ("cases", "case_history", "users", "units", "role_assignments", "delegations", "notifications",
             "office_closures")
# Tables every office reads.
EVERY_OFFICE = ("step_limits", "workflow_versions", "plan_periods", "plan_obligations")

# A new row starts at a random number below 2**50 (see above).
_START = {"postgresql": "(floor(random() * 1125899906842624))::bigint + 1",
          "sqlite": "(abs(random()) % 1125899906842624) + 1"}
_UPSERT = ("INSERT INTO office_revisions (office_id, revision) {values} "
           "ON CONFLICT (office_id) DO UPDATE SET revision = office_revisions.revision + 1")


def _upsert(dialect: str, office: str, when: str = "") -> str:
    """Raise ``office``'s row by one, creating it (at a random start) if it is not there yet."""
    if when:
        return _UPSERT.format(values=f"SELECT {office}, {_START[dialect]} WHERE {when}")
    return _UPSERT.format(values=f"VALUES ({office}, {_START[dialect]})")


def upgrade() -> None:
    op.create_table(
        'office_revisions',
        sa.Column('office_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('revision', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('office_id', name=op.f('pk_office_revisions')),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _postgresql() -> None:
    # Once per office per transaction: a transaction-local setting remembers the offices raised.
    op.execute(f"""
        CREATE FUNCTION office_revision_bump(office integer) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            done text := 'caseflow.revised_' || office;
        BEGIN
            IF current_setting(done, true) = '1' THEN
                RETURN;
            END IF;
            PERFORM set_config(done, '1', true);
            {_upsert("postgresql", "office")};
        END $$;
    """)
    op.execute("""
        CREATE FUNCTION office_revisions_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'office_revisions only counts forward: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
    """)
    op.execute("CREATE TRIGGER office_revisions_no_delete BEFORE DELETE ON office_revisions "
               "FOR EACH ROW EXECUTE FUNCTION office_revisions_forward_only()")
    op.execute("CREATE TRIGGER office_revisions_no_truncate BEFORE TRUNCATE ON office_revisions "
               "FOR EACH STATEMENT EXECUTE FUNCTION office_revisions_forward_only()")
    op.execute("""
        CREATE FUNCTION office_revision_by_office() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM office_revision_bump(coalesce(OLD.office_id, 0));
            ELSE
                PERFORM office_revision_bump(coalesce(NEW.office_id, 0));
                IF TG_OP = 'UPDATE' THEN
                    IF OLD.office_id IS DISTINCT FROM NEW.office_id THEN
                        PERFORM office_revision_bump(coalesce(OLD.office_id, 0));
                    END IF;
                END IF;
            END IF;
            RETURN NULL;
        END $$;
    """)
    op.execute("""
        CREATE FUNCTION office_revision_office() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM office_revision_bump(OLD.id);
            ELSE
                PERFORM office_revision_bump(NEW.id);
            END IF;
            RETURN NULL;
        END $$;
    """)
    op.execute("""
        CREATE FUNCTION office_revision_every_office() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM office_revision_bump(0);
            RETURN NULL;
        END $$;
    """)
    functions = {t: "office_revision_by_office" for t in BY_OFFICE}
    functions.update({t: "office_revision_every_office" for t in EVERY_OFFICE})
    functions["offices"] = "office_revision_office"
    for table, function in functions.items():
        op.execute(f"CREATE CONSTRAINT TRIGGER {table}_office_revision AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}()")
        op.execute(f"CREATE TRIGGER {table}_office_revision_truncate AFTER TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION office_revision_every_office()")


def _sqlite() -> None:
    op.execute("CREATE TRIGGER office_revisions_no_delete BEFORE DELETE ON office_revisions "
               "BEGIN SELECT RAISE(ABORT, 'office_revisions only counts forward: DELETE refused'); END")
    columns = {t: "office_id" for t in BY_OFFICE}
    columns.update({t: None for t in EVERY_OFFICE})
    columns["offices"] = "id"
    for table, column in columns.items():
        new = f"coalesce(NEW.{column}, 0)" if column else "0"
        old = f"coalesce(OLD.{column}, 0)" if column else "0"
        op.execute(f"CREATE TRIGGER {table}_office_revision_insert AFTER INSERT ON {table} BEGIN "
                   f"{_upsert('sqlite', new)}; END")
        # A row moved to another office raises the office it left too.
        moved = f" {_upsert('sqlite', old, when=f'{old} <> {new}')};" if column else ""
        op.execute(f"CREATE TRIGGER {table}_office_revision_update AFTER UPDATE ON {table} BEGIN "
                   f"{_upsert('sqlite', new)};{moved} END")
        op.execute(f"CREATE TRIGGER {table}_office_revision_delete AFTER DELETE ON {table} BEGIN "
                   f"{_upsert('sqlite', old)}; END")


def downgrade() -> None:
    tables = (*BY_OFFICE, *EVERY_OFFICE, "offices")
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_office_revision ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_office_revision_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS office_revisions_no_delete ON office_revisions")
        op.execute("DROP TRIGGER IF EXISTS office_revisions_no_truncate ON office_revisions")
        for function in ("office_revision_by_office()", "office_revision_office()",
                         "office_revision_every_office()", "office_revision_bump(integer)",
                         "office_revisions_forward_only()"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for table in tables:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_office_revision_{event}")
        op.execute("DROP TRIGGER IF EXISTS office_revisions_no_delete")
    op.drop_table('office_revisions')
