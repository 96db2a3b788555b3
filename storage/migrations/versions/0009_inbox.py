"""spine: the inbox of Slack requests acked at once and worked on after

Revision ID: 0009_inbox
Revises: 0001_spine
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009_inbox"
down_revision = "0001_spine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("locked_until", storage.types.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_inbox_team_id_key")),
    )
    op.create_index("ix_inbox_due", "inbox", ["team_id", "priority", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbox_due", table_name="inbox")
    op.drop_table("inbox")
