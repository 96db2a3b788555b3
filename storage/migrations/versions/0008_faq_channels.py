"""knowledge: per-channel FAQ settings (auto-answer to mentions on/off)

Revision ID: 0008_faq_channels
Revises: 0004_knowledge
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008_faq_channels"
down_revision = "0004_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("auto_answer", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_channels")),
        sa.UniqueConstraint("team_id", "channel_id", name=op.f("uq_faq_channels_team_id_channel_id")),
    )


def downgrade() -> None:
    op.drop_table("faq_channels")
