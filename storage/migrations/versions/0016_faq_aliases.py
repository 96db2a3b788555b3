"""knowledge: who forwarded an unanswered question, so the answer an organiser links reaches them once

Revision ID: 0016_faq_aliases
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

An organiser answers a forwarded question by pointing it at an existing entry: the question becomes one of
the entry's aliases (the JSON list faqs.aliases, no schema change) and every member who forwarded it is told.
faq_askers keeps those members until they are told (and after, for the card), and is erased with the person.

The question side's synonym groups now also come from Sudachi's core dictionary (its compounds 看護師,
高齢者 carry groups the small one lacks): rows indexed before get them here, as 0012 did for content words.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
from storage.search.analyzer import syn_tokens

revision = "0016_faq_aliases"
down_revision = "0012_search_words"
branch_labels = None
depends_on = None


_docs = sa.table("search_docs", sa.column("id"), sa.column("kind"), sa.column("ref_id"), sa.column("s"))
_faqs = sa.table(
    "faqs",
    sa.column("id"),
    sa.column("question"),
    sa.column("aliases", sa.JSON),
    sa.column("tags", sa.JSON),
    sa.column("category"),
)
_archives = sa.table("archives", sa.column("id"), sa.column("series"), sa.column("number"), sa.column("theme"))


def _reindex_meaning_tokens() -> None:
    # The same question sides as storage.faqs._sides and storage.archives._sides at the time of writing.
    conn = op.get_bind()
    sides: dict[tuple[str, int], str] = {}
    for i, question, aliases, tags, category in conn.execute(sa.select(_faqs)):
        sides[("faq", i)] = "\n".join([question, *(aliases or []), *(tags or []), category or ""])
    for i, series, number, theme in conn.execute(sa.select(_archives)):
        sides[("archive", i)] = f"{series}\n第{number}回\n{theme or ''}"
    for doc_id, kind, ref_id, s in list(conn.execute(sa.select(_docs))):
        side = sides.get((kind, ref_id))
        new = f" {syn_tokens(side)} " if side is not None else s  # as storage.search.engine.tokens_for writes it
        if new != s:
            conn.execute(sa.update(_docs).where(_docs.c.id == doc_id).values(s=new))


def upgrade() -> None:
    _reindex_meaning_tokens()
    op.create_table(
        "faq_askers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("unanswered_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("asked_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("answered_faq_id", sa.Integer(), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unanswered_id"],
            ["faq_unanswered.id"],
            name=op.f("fk_faq_askers_unanswered_id_faq_unanswered"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_askers")),
        sa.UniqueConstraint("unanswered_id", "user_id", name=op.f("uq_faq_askers_unanswered_id_user_id")),
    )
    op.create_index(op.f("ix_faq_askers_unanswered_id"), "faq_askers", ["unanswered_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_faq_askers_unanswered_id"), table_name="faq_askers")
    op.drop_table("faq_askers")
