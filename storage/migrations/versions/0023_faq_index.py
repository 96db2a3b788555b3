"""faq index: a search generation per (team, kind) and the generation that wrote each search_docs row

Revision ID: 0023_faq_index
Revises: 0022_events
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

The FAQ and archive search keeps each team's postings in memory (storage/search/index.py), built from
search_docs on first use. search_generations.generation is bumped in the transaction of every write to
search_docs and read by primary key before every search; a process whose index is behind reads only the
rows with search_docs.version above its generation (ix_search_docs_changed), so replicas and restarts stay
correct without a rebuild per write. `resets` counts deletions (an index rebuilds after one). Existing rows
get version 0 and no generation row, which reads as generation 0: an index built from them is up to date.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_faq_index"
down_revision = "0022_events"
branch_labels = None
depends_on = ("0004_knowledge",)  # search_docs


def upgrade() -> None:
    op.create_table(
        "search_generations",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("resets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "kind", name=op.f("pk_search_generations")),
    )
    # Not a batch: on SQLite a batch that rebuilt search_docs would drop its FTS5 triggers (0004); a plain
    # ADD COLUMN (and, in downgrade, DROP COLUMN, SQLite >= 3.35) leaves them alone.
    op.add_column("search_docs", sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.create_index("ix_search_docs_changed", "search_docs", ["team_id", "kind", "version"])


def downgrade() -> None:
    op.drop_index("ix_search_docs_changed", table_name="search_docs")
    op.drop_column("search_docs", "version")
    op.drop_table("search_generations")
