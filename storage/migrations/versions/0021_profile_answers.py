"""profile answers: members.answers (JSON by field key), consent_version and consent_at

Revision ID: 0021_profile_answers
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

Why a JSON column on members rather than a member_answers table: the answers are always read and written
with the member's row (the form, the approval card, /mydata), never queried across members, and the
privacy erase already clears or deletes that one row, so nothing can be left behind in a second table.
Today's typed columns (name, org_type, pref_code, muni_code, department, title, interests) stay the home
of the built-in fields, so the directory, stats and placement queries are untouched; only the fields a
profile adds (email, phone, organisation, …) live in `answers`. Adding an optional field later needs no
migration; removing one keeps its old answer. Existing members get an empty object.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0021_profile_answers"
down_revision = "0012_search_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=True, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("consent_version", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("consent_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("consent_at")
        batch.drop_column("consent_version")
        batch.drop_column("answers")
