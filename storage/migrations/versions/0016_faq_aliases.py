"""knowledge: who forwarded an unanswered question, so the answer an organiser links reaches them once

Revision ID: 0016_faq_aliases
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

An organiser answers a forwarded question by pointing it at an existing entry: the question becomes one of
the entry's aliases (the JSON list faqs.aliases, no schema change) and every member who forwarded it is told.
faq_askers keeps those members until they are told (and after, for the card), and is erased with the person.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0016_faq_aliases"
down_revision = "0012_search_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
