"""knowledge: the search index's question side also holds content words (re-derived for indexed rows)

Revision ID: 0012_search_words
Revises: 0004_knowledge
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

The ranking of #13 measures how much of an entry a question explains from the content words of the entry's
question (`w…` tokens in search_docs.s, beside the synonym groups). Rows indexed before this revision get
them here; the search still works on rows without them (it falls back to bigrams), so downgrade keeps them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.search.analyzer import syn_tokens

revision = "0012_search_words"
down_revision = "0004_knowledge"
branch_labels = None
depends_on = None

_docs = sa.table("search_docs", sa.column("id"), sa.column("kind"), sa.column("ref_id"), sa.column("s"))
_faqs = sa.table(
    "faqs", sa.column("id"), sa.column("question"), sa.column("aliases", sa.JSON), sa.column("tags", sa.JSON),
    sa.column("category"),
)  # fmt: skip
_archives = sa.table("archives", sa.column("id"), sa.column("series"), sa.column("number"), sa.column("theme"))


def _question_sides(conn) -> dict[tuple[str, int], str]:
    # The same question side as storage.faqs._sides and storage.archives._sides at the time of writing.
    sides: dict[tuple[str, int], str] = {}
    for i, question, aliases, tags, category in conn.execute(sa.select(_faqs)):
        sides[("faq", i)] = "\n".join([question, *(aliases or []), *(tags or []), category or ""])
    for i, series, number, theme in conn.execute(sa.select(_archives)):
        sides[("archive", i)] = f"{series}\n第{number}回\n{theme or ''}"
    return sides


def upgrade() -> None:
    conn = op.get_bind()
    sides = _question_sides(conn)
    for doc_id, kind, ref_id, s in list(conn.execute(sa.select(_docs))):
        side = sides.get((kind, ref_id))
        if side is None:
            continue
        new = f" {syn_tokens(side)} "  # as storage.search.engine.tokens_for writes it
        if new != s:
            conn.execute(sa.update(_docs).where(_docs.c.id == doc_id).values(s=new))


def downgrade() -> None:
    pass
