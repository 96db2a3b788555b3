"""membership: member profile columns, prefecture channels, approval requests

Revision ID: 0002_membership
Revises: 0001_spine
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002_membership"
down_revision = "0001_spine"
branch_labels = None
depends_on = None

MEMBER_COLUMNS = (
    ("name", lambda: sa.String(length=100)),
    ("org_type", lambda: sa.String(length=16)),
    ("pref_code", lambda: sa.String(length=2)),
    ("muni_code", lambda: sa.String(length=6)),
    ("department", lambda: sa.String(length=200)),
    ("title", lambda: sa.String(length=200)),
    ("public_servant_confirmed_at", lambda: storage.types.UTCDateTime()),
    ("registered_at", lambda: storage.types.UTCDateTime()),
    ("approved_at", lambda: storage.types.UTCDateTime()),
    ("approved_by", lambda: sa.String(length=32)),
    ("rejected_reason", lambda: sa.String(length=1000)),
    ("placed_pref_code", lambda: sa.String(length=2)),
)


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        for name, type_ in MEMBER_COLUMNS:
            batch_op.add_column(sa.Column(name, type_(), nullable=True))
        batch_op.add_column(sa.Column("interests", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("is_lead", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_members_pref_code"), ["pref_code"], unique=False)

    op.create_table(
        "prefecture_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pref_code", sa.String(length=2), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prefecture_channels")),
        sa.UniqueConstraint("team_id", "pref_code", name=op.f("uq_prefecture_channels_team_id_pref_code")),
    )
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_requests_user_id"), ["user_id"], unique=False)
        batch_op.create_index("ix_approval_requests_pending", ["team_id", "status", "submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_requests_pending")
        batch_op.drop_index(batch_op.f("ix_approval_requests_user_id"))
    op.drop_table("approval_requests")
    op.drop_table("prefecture_channels")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_pref_code"))
        batch_op.drop_column("is_lead")
        batch_op.drop_column("interests")
        for name, _ in reversed(MEMBER_COLUMNS):
            batch_op.drop_column(name)
