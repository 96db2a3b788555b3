"""intros: opt-ins with a preference, rounds, seats (with the check-in); group DMs widen the outbox target

Revision ID: 0017_intros
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

A group DM's outbox target is its members' ids joined by "," (a trio of 11-character ids is 35 characters),
so the target column grows from 32 to 200.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017_intros"
down_revision = "0012_search_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intro_optins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("preference", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intro_optins")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_intro_optins_team_id_user_id")),
    )
    op.create_table(
        "intro_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slot", storage.types.UTCDateTime(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intro_rounds")),
        sa.UniqueConstraint("team_id", "slot", name=op.f("uq_intro_rounds_team_id_slot")),
    )
    op.create_table(
        "intro_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("checkin", sa.String(length=16), nullable=True),
        sa.Column("checkin_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["intro_rounds.id"], name=op.f("fk_intro_seats_round_id_intro_rounds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intro_seats")),
        sa.UniqueConstraint("round_id", "user_id", name=op.f("uq_intro_seats_round_id_user_id")),
    )
    op.create_index("ix_intro_seats_member", "intro_seats", ["team_id", "user_id"], unique=False)
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("target", existing_type=sa.String(length=32), type_=sa.String(length=200))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("target", existing_type=sa.String(length=200), type_=sa.String(length=32))
    op.drop_index("ix_intro_seats_member", table_name="intro_seats")
    op.drop_table("intro_seats")
    op.drop_table("intro_rounds")
    op.drop_table("intro_optins")
