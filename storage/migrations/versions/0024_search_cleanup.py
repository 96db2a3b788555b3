"""search cleanup: drop the FTS5 table and triggers (SQLite) and the pg_trgm indexes (PostgreSQL) of search_docs

Revision ID: 0024_search_cleanup
Revises: 0023_faq_index
Written by hand.

Since 0023 the FAQ and archive search reads its candidates from the in-process index
(storage/search/index.py), built from search_docs' own columns: nothing reads search_fts, search_fts_vocab
or the three trigram indexes any more, yet every write to search_docs still filled them. No table is
rebuilt (no batch), so the other triggers on the database (member_counts, 0019) are left alone. The
pg_trgm extension stays: dropping an extension needs more rights than the application may have, and it
costs nothing unused. Downgrade recreates the structures of 0004 and refills the FTS5 table from search_docs.
"""

from __future__ import annotations

from alembic import op

revision = "0024_search_cleanup"
down_revision = "0023_faq_index"
branch_labels = None
depends_on = None

_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_docs_au",
    "DROP TRIGGER IF EXISTS search_docs_ad",
    "DROP TRIGGER IF EXISTS search_docs_ai",
    "DROP TABLE IF EXISTS search_fts_vocab",
    "DROP TABLE IF EXISTS search_fts",
]
_PG_DROP = [
    "DROP INDEX IF EXISTS ix_search_docs_q_trgm",
    "DROP INDEX IF EXISTS ix_search_docs_a_trgm",
    "DROP INDEX IF EXISTS ix_search_docs_s_trgm",
]
# As 0004 created them.
_SQLITE_CREATE = [
    (
        "CREATE VIRTUAL TABLE search_fts USING fts5(q, a, s, scope, content='search_docs', content_rowid='id',"
        " tokenize='unicode61 remove_diacritics 0', detail='column')"
    ),
    "CREATE VIRTUAL TABLE search_fts_vocab USING fts5vocab(search_fts, 'row')",
    (
        "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN"
        " INSERT INTO search_fts(rowid, q, a, s, scope) VALUES (new.id, new.q, new.a, new.s, new.scope); END"
    ),
    (
        "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN"
        " INSERT INTO search_fts(search_fts, rowid, q, a, s, scope)"
        " VALUES ('delete', old.id, old.q, old.a, old.s, old.scope);"
        " END"
    ),
    (
        "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN"
        " INSERT INTO search_fts(search_fts, rowid, q, a, s, scope)"
        " VALUES ('delete', old.id, old.q, old.a, old.s, old.scope);"
        " INSERT INTO search_fts(rowid, q, a, s, scope) VALUES (new.id, new.q, new.a, new.s, new.scope); END"
    ),
    # An external-content table is empty when created: fill it from search_docs.
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]
_PG_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_q_trgm ON search_docs USING gin (q gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_a_trgm ON search_docs USING gin (a gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_s_trgm ON search_docs USING gin (s gin_trgm_ops)",
]


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    for stmt in {"sqlite": _SQLITE_DROP, "postgresql": _PG_DROP}.get(_dialect(), []):
        op.execute(stmt)


def downgrade() -> None:
    for stmt in {"sqlite": _SQLITE_CREATE, "postgresql": _PG_CREATE}.get(_dialect(), []):
        op.execute(stmt)
