"""community: 課 (sections) and their members; indexes for the member directory statistics

Revision ID: 0006_community
Revises: 0001_spine
Depends on: 0002_membership (the indexes cover its profile columns)
Written by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006_community"
down_revision = "0001_spine"
branch_labels = None
depends_on = "0002_membership"


def upgrade() -> None:
    op.create_table(
        "sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kana", sa.String(length=128), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("leads", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sections")),
        sa.UniqueConstraint("team_id", "name_key", name=op.f("uq_sections_team_id_name_key")),
    )
    op.create_table(
        "section_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("joined_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["section_id"], ["sections.id"], name=op.f("fk_section_members_section_id_sections"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_section_members")),
        sa.UniqueConstraint("section_id", "user_id", name=op.f("uq_section_members_section_id_user_id")),
    )
    op.create_index("ix_section_members_member", "section_members", ["team_id", "user_id"], unique=False)
    op.create_index("ix_members_directory", "members",
                    ["team_id", "status", "left_at", "pref_code", "org_type", "muni_code"], unique=False)
    op.create_index("ix_members_approved_at", "members", ["team_id", "approved_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_members_approved_at", table_name="members")
    op.drop_index("ix_members_directory", table_name="members")
    op.drop_index("ix_section_members_member", table_name="section_members")
    op.drop_table("section_members")
    op.drop_table("sections")
