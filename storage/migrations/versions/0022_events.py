"""events: the catalogue (events), members' places (event_signups) and survey answers (event_surveys)

Revision ID: 0022_events
Revises: 0021_profile_answers
Written by hand.

A sign-up is one row per (event, member) whatever happens to it: seat, wait or cancelled, so a member is
signed up at most once and the waitlist's order is `seq` within the event (given under the event row's lock).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0022_events"
down_revision = "0021_profile_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("series_key", sa.String(length=100), nullable=True),
        sa.Column("recurrence", sa.JSON(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("deadline", storage.types.UTCDateTime(), nullable=True),
        sa.Column("hosts", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(length=80), nullable=False),
        sa.Column("join_url", sa.String(length=500), nullable=True),
        sa.Column("venue", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("fee", sa.String(length=200), nullable=True),
        sa.Column("archive_url", sa.String(length=500), nullable=True),
        sa.Column("archive_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_events_team_id_key")),
    )
    op.create_index("ix_events_upcoming", "events", ["team_id", "starts_at"])
    op.create_table(
        "event_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("signed_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("promoted_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_signups_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signups")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_event_signups_event_id_user_id")),
    )
    op.create_index("ix_event_signups_member", "event_signups", ["team_id", "user_id"])
    op.create_index("ix_event_signups_queue", "event_signups", ["event_id", "status", "seq"])
    op.create_table(
        "event_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("share_name", sa.Boolean(), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_surveys_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_surveys")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_event_surveys_event_id_user_id")),
    )
    op.create_index("ix_event_surveys_member", "event_surveys", ["team_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_event_surveys_member", table_name="event_surveys")
    op.drop_table("event_surveys")
    op.drop_index("ix_event_signups_queue", table_name="event_signups")
    op.drop_index("ix_event_signups_member", table_name="event_signups")
    op.drop_table("event_signups")
    op.drop_index("ix_events_upcoming", table_name="events")
    op.drop_table("events")
