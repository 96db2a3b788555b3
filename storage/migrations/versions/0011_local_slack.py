"""local workspace: the console's users and channels, kept with its database

Revision ID: 0011_local_slack
Revises: 0001_spine
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011_local_slack"
down_revision = "0001_spine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_slack_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_slack_objects")),
        sa.UniqueConstraint("team_id", "kind", "object_id", name=op.f("uq_local_slack_objects_team_id_kind_object_id")),
    )


def downgrade() -> None:
    op.drop_table("local_slack_objects")
