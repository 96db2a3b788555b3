"""disaster: the JMA feed's state, check-in posts (one per event and prefecture), members' statuses

Revision ID: 0018_disaster
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0018_disaster"
down_revision = "0012_search_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disaster_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_feeds")),
        sa.UniqueConstraint("team_id", "url", name=op.f("uq_disaster_feeds_team_id_url")),
    )
    op.create_table(
        "disaster_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("pref_code", sa.String(length=2), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_checkins")),
        sa.UniqueConstraint(
            "team_id", "event_id", "pref_code", name=op.f("uq_disaster_checkins_team_id_event_id_pref_code")
        ),
    )
    op.create_table(
        "disaster_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("help_sent", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["disaster_checkins.id"],
            name=op.f("fk_disaster_statuses_checkin_id_disaster_checkins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_statuses")),
        sa.UniqueConstraint("checkin_id", "user_id", name=op.f("uq_disaster_statuses_checkin_id_user_id")),
    )
    op.create_index("ix_disaster_statuses_member", "disaster_statuses", ["team_id", "user_id"], unique=False)
    op.create_index(op.f("ix_disaster_statuses_updated_at"), "disaster_statuses", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_disaster_statuses_updated_at"), table_name="disaster_statuses")
    op.drop_index("ix_disaster_statuses_member", table_name="disaster_statuses")
    op.drop_table("disaster_statuses")
    op.drop_table("disaster_checkins")
    op.drop_table("disaster_feeds")
