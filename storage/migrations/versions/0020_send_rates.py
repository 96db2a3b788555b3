"""send_rates: the post rate learned per workspace, so broadcasts start at the workspace's real limit

Revision ID: 0020_send_rates
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0020_send_rates"
down_revision = "0012_search_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_rates",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("per_second", sa.Float(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_send_rates")),
    )


def downgrade() -> None:
    op.drop_table("send_rates")
