"""case_search: the search index over each case's title, its fields' text and its history's
comments, kept by database triggers in the writer's own transaction (whoever writes: an
operation, a bench's bulk insert, psql)

Written by hand (a table or virtual table, functions and triggers; no model: nothing but these
triggers writes it, and ``workflow.search`` reads it).

PostgreSQL: a table with the three texts, ``norm`` (their concatenation folded: NFKC, then ASCII
lower case) and ``doc``, a tsvector of every character and every pair of adjacent characters of
each run of word characters in ``norm`` (array_to_tsvector: the terms are taken as they are, no
parser, no dictionary, so no locale decides what a Chinese "word" is), under a GIN index. A query
word asks for its pairs (its character, if it has one) and then for itself in ``norm``
(``strpos``), so 「培力」 finds 「性別意識培力」 and a word is found exactly as typed, punctuation
included. ``workflow.search.text`` folds and cuts queries the same way (the word characters are
the same ranges; a test holds the two to each other).

SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34 or later), rowid = the case's id.
A word of three characters or more is an FTS5 phrase (trigrams: any substring); shorter words are
read with instr() over the office's rows (FTS5 cannot index them).

Triggers: a new case adds its row; a change of title, fields or office rewrites it; a history row
with a comment appends the comment. Existing cases are indexed here.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 00:18:00
"""

from __future__ import annotations

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# Word characters (after folding): ASCII digits and letters, Latin letters with accents, 々〆〇,
# kana, bopomofo, CJK ideographs (extension A, the unified block, compatibility, extensions B-G),
# Hangul syllables. The same ranges as workflow.search.text.WORD_RANGES.
WORD = (r"[0-9a-z\u00c0-\u024f\u3005-\u3007\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
        r"\uac00-\ud7a3\uf900-\ufaff\U00020000-\U0003134f]+")
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _postgresql() -> None:
    op.execute(f"""
        CREATE FUNCTION case_search_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
        $$ SELECT translate(normalize(coalesce(t, ''), NFKC), '{_UPPER}', '{_LOWER}') $$
    """)
    op.execute(f"""
        CREATE FUNCTION case_search_terms(folded text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(array_to_tsvector(array_agg(DISTINCT g)), ''::tsvector)
            FROM regexp_matches(folded, '{WORD}', 'g') AS m(run)
            CROSS JOIN LATERAL generate_series(1, char_length(m.run[1])) AS i
            CROSS JOIN LATERAL (VALUES (substr(m.run[1], i, 1)), (substr(m.run[1], i, 2))) AS v(g)
        $$
    """)
    # The text of a case's fields: every string and number, at any depth (table rows included).
    op.execute("""
        CREATE FUNCTION case_search_fields(fields jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT coalesce(string_agg(v #>> '{}', ' '), '')
            FROM jsonb_path_query(coalesce(fields, '{}'::jsonb),
                                  'strict $.** ? (@.type() == "string" || @.type() == "number")') AS v
        $$
    """)
    op.execute("""
        CREATE TABLE case_search (
            case_id integer NOT NULL,
            office_id integer NOT NULL,
            title text NOT NULL DEFAULT '',
            fields_text text NOT NULL DEFAULT '',
            comments text NOT NULL DEFAULT '',
            norm text NOT NULL DEFAULT '',
            doc tsvector NOT NULL DEFAULT ''::tsvector,
            CONSTRAINT pk_case_search PRIMARY KEY (case_id),
            CONSTRAINT fk_case_search_case_id_cases FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE
        )
    """)
    op.execute("CREATE INDEX ix_case_search_doc ON case_search USING gin (doc)")
    op.execute("""
        CREATE FUNCTION case_search_prepare() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.norm := case_search_fold(NEW.title || ' ' || NEW.fields_text || ' ' || NEW.comments);
            NEW.doc := case_search_terms(NEW.norm);
            RETURN NEW;
        END $$
    """)
    op.execute("CREATE TRIGGER case_search_prepare BEFORE INSERT OR UPDATE ON case_search "
               "FOR EACH ROW EXECUTE FUNCTION case_search_prepare()")
    op.execute("""
        CREATE FUNCTION case_search_from_case() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO case_search (case_id, office_id, title, fields_text)
                VALUES (NEW.id, NEW.office_id, NEW.title, case_search_fields(NEW.fields));
            ELSE
                UPDATE case_search SET office_id = NEW.office_id, title = NEW.title,
                                       fields_text = case_search_fields(NEW.fields)
                WHERE case_id = NEW.id;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER case_search_case_insert AFTER INSERT ON cases "
               "FOR EACH ROW EXECUTE FUNCTION case_search_from_case()")
    op.execute("CREATE TRIGGER case_search_case_update AFTER UPDATE OF title, fields, office_id ON cases "
               "FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.fields IS DISTINCT FROM NEW.fields "
               "OR OLD.office_id IS DISTINCT FROM NEW.office_id) EXECUTE FUNCTION case_search_from_case()")
    op.execute("""
        CREATE FUNCTION case_search_from_history() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE case_search
            SET comments = CASE WHEN comments = '' THEN NEW.comment ELSE comments || E'\\n' || NEW.comment END
            WHERE case_id = NEW.case_id;
            RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER case_search_comment AFTER INSERT ON case_history FOR EACH ROW "
               "WHEN (NEW.comment IS NOT NULL AND NEW.comment <> '') EXECUTE FUNCTION case_search_from_history()")
    op.execute("""
        INSERT INTO case_search (case_id, office_id, title, fields_text, comments)
        SELECT c.id, c.office_id, c.title, case_search_fields(c.fields),
               coalesce((SELECT string_agg(h.comment, E'\\n' ORDER BY h.seq) FROM case_history AS h
                         WHERE h.case_id = c.id AND h.comment IS NOT NULL AND h.comment <> ''), '')
        FROM cases AS c
    """)


# SQLite: the fields' strings and numbers (json_tree walks every depth); a value that is not JSON
# (never written by caseflow) indexes nothing rather than failing the write.
_FIELDS = ("coalesce((SELECT group_concat(value, ' ') FROM json_tree(iif(json_valid({f}), {f}, '{{}}')) "
           "WHERE type IN ('text', 'integer', 'real')), '')")


def _sqlite() -> None:
    op.execute("CREATE VIRTUAL TABLE case_search USING fts5("
               "office_id UNINDEXED, title, fields_text, comments, tokenize = 'trigram')")
    new_fields = _FIELDS.format(f="NEW.fields")
    op.execute(f"""
        CREATE TRIGGER case_search_case_insert AFTER INSERT ON cases BEGIN
            INSERT INTO case_search (rowid, office_id, title, fields_text, comments)
            VALUES (NEW.id, NEW.office_id, NEW.title, {new_fields}, '');
        END
    """)
    op.execute(f"""
        CREATE TRIGGER case_search_case_update AFTER UPDATE OF title, fields, office_id ON cases
        WHEN OLD.title IS NOT NEW.title OR OLD.fields IS NOT NEW.fields OR OLD.office_id IS NOT NEW.office_id
        BEGIN
            UPDATE case_search SET office_id = NEW.office_id, title = NEW.title, fields_text = {new_fields}
            WHERE rowid = NEW.id;
        END
    """)
    op.execute("""
        CREATE TRIGGER case_search_case_delete AFTER DELETE ON cases BEGIN
            DELETE FROM case_search WHERE rowid = OLD.id;
        END
    """)
    op.execute("""
        CREATE TRIGGER case_search_comment AFTER INSERT ON case_history
        WHEN NEW.comment IS NOT NULL AND NEW.comment <> ''
        BEGIN
            UPDATE case_search
            SET comments = CASE WHEN comments = '' THEN NEW.comment ELSE comments || char(10) || NEW.comment END
            WHERE rowid = NEW.case_id;
        END
    """)
    fields = _FIELDS.format(f="c.fields")
    op.execute(f"""
        INSERT INTO case_search (rowid, office_id, title, fields_text, comments)
        SELECT c.id, c.office_id, c.title, {fields},
               coalesce((SELECT group_concat(comment, char(10)) FROM (
                   SELECT h.comment FROM case_history AS h
                   WHERE h.case_id = c.id AND h.comment IS NOT NULL AND h.comment <> '' ORDER BY h.seq)), '')
        FROM cases AS c
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_search_comment ON case_history")
        op.execute("DROP TRIGGER IF EXISTS case_search_case_update ON cases")
        op.execute("DROP TRIGGER IF EXISTS case_search_case_insert ON cases")
        op.execute("DROP TABLE IF EXISTS case_search")
        for function in ("case_search_from_history()", "case_search_from_case()", "case_search_prepare()",
                         "case_search_fields(jsonb)", "case_search_terms(text)", "case_search_fold(text)"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for trigger in ("case_search_comment", "case_search_case_delete", "case_search_case_update",
                        "case_search_case_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS case_search")
