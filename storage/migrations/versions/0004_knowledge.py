"""knowledge: faqs, revisions, votes, unanswered questions, archives and the search index

Revision ID: 0004_knowledge
Revises: 0001_spine
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004_knowledge"
down_revision = "0001_spine"
branch_labels = None
depends_on = None

_FTS_SQLITE = [
    # External-content FTS5 over search_docs: tokens are space-separated bigrams, so unicode61 finds
    # two-character words (予約, 接種) that the trigram tokenizer cannot.
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
]
_FTS_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_docs_au",
    "DROP TRIGGER IF EXISTS search_docs_ad",
    "DROP TRIGGER IF EXISTS search_docs_ai",
    "DROP TABLE IF EXISTS search_fts_vocab",
    "DROP TABLE IF EXISTS search_fts",
]
_TRGM_PG = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_search_docs_q_trgm ON search_docs USING gin (q gin_trgm_ops)",
    "CREATE INDEX ix_search_docs_a_trgm ON search_docs USING gin (a gin_trgm_ops)",
    "CREATE INDEX ix_search_docs_s_trgm ON search_docs USING gin (s gin_trgm_ops)",
]


def _ts() -> storage.types.UTCDateTime:
    return storage.types.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "faqs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("qkey", sa.String(255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("source_url", sa.String(500), nullable=True),
        sa.Column("updated_on", sa.Date(), nullable=True),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("unhelpful", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faqs")),
        sa.UniqueConstraint("team_id", "qkey", name=op.f("uq_faqs_team_id_qkey")),
    )
    op.create_index(op.f("ix_faqs_category"), "faqs", ["category"])
    op.create_table(
        "faq_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("faq_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("edited_by", sa.String(100), nullable=True),
        sa.Column("edited_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["faq_id"],
            ["faqs.id"],
            name=op.f("fk_faq_revisions_faq_id_faqs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_revisions")),
        sa.UniqueConstraint(
            "faq_id", "revision", name=op.f("uq_faq_revisions_faq_id_revision")
        ),
    )
    op.create_index(op.f("ix_faq_revisions_faq_id"), "faq_revisions", ["faq_id"])
    op.create_table(
        "faq_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("faq_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("vote", sa.Integer(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["faq_id"],
            ["faqs.id"],
            name=op.f("fk_faq_votes_faq_id_faqs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_votes")),
        sa.UniqueConstraint(
            "faq_id", "user_id", name=op.f("uq_faq_votes_faq_id_user_id")
        ),
    )
    op.create_table(
        "faq_unanswered",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("qkey", sa.String(255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_asked_at", _ts(), nullable=False),
        sa.Column("last_asked_at", _ts(), nullable=False),
        sa.Column("resolved_faq_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_unanswered")),
        sa.UniqueConstraint(
            "team_id", "qkey", name=op.f("uq_faq_unanswered_team_id_qkey")
        ),
    )
    op.create_table(
        "archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("series", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("theme", sa.Text(), nullable=True),
        sa.Column("recording_url", sa.String(500), nullable=True),
        sa.Column("faq_doc_url", sa.String(500), nullable=True),
        sa.Column("attendance", sa.Integer(), nullable=True),
        sa.Column("governments", sa.Integer(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archives")),
        sa.UniqueConstraint(
            "team_id",
            "series",
            "number",
            name=op.f("uq_archives_team_id_series_number"),
        ),
    )
    op.create_index(op.f("ix_archives_held_on"), "archives", ["held_on"])
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("q", sa.Text(), nullable=False),
        sa.Column("a", sa.Text(), nullable=False),
        sa.Column("s", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_docs")),
        sa.UniqueConstraint(
            "team_id", "kind", "ref_id", name=op.f("uq_search_docs_team_id_kind_ref_id")
        ),
    )
    dialect = op.get_bind().dialect.name
    for stmt in (
        _FTS_SQLITE
        if dialect == "sqlite"
        else _TRGM_PG
        if dialect == "postgresql"
        else []
    ):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for stmt in _FTS_SQLITE_DROP:
            op.execute(stmt)
    op.drop_table("search_docs")  # drops its pg_trgm indexes with it
    op.drop_index(op.f("ix_archives_held_on"), table_name="archives")
    op.drop_table("archives")
    op.drop_table("faq_unanswered")
    op.drop_table("faq_votes")
    op.drop_index(op.f("ix_faq_revisions_faq_id"), table_name="faq_revisions")
    op.drop_table("faq_revisions")
    op.drop_index(op.f("ix_faqs_category"), table_name="faqs")
    op.drop_table("faqs")
