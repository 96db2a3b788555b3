"""member counts: the directory's figures kept up to date by triggers on members, backfilled here

Revision ID: 0019_member_counts
Revises: 0012_search_words
Written by hand (feature branches hang off the spine; `upgrade heads` merges them).

`/members stats` grouped every member at each call (4.1 s on SQLite at 3.38 M members). member_counts holds
how many members share one (team, status, here or left, kind, prefecture, municipality), member_approvals
how many were approved in each quarter hour (UTC), so the statistics read a few thousand rows.

Triggers keep both tables, in the statement that changes members and so in its transaction, whichever code
path writes (the app, an import, a migration, a hand-written UPDATE): none can forget. SQLite fires them per
row; a bulk import may pause the insert trigger inside its own transaction by a row in member_counts_paused
and add the batch's aggregate itself (storage.member_counts.bulk_insert). PostgreSQL fires them once per statement with
transition tables, so a COPY of 20,000 rows is one aggregate. Upserts go in key order so concurrent
transactions lock count rows in the same order (no deadlock between two transfers in opposite directions).

ix_members_directory and ix_members_approved_at (0006) go: they served only the statistics (the GROUP BY and
the monthly range counts), and maintaining them dominated a bulk import on SQLite — the six-column key halved
its speed (300,000 rows: 4,197 rows/s with it, 8,970 without), and approved_at's random order makes every row
of a batch dirty another page of a large index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
from storage.member_counts import (
    KEY,
    PG_BUCKET,
    PG_FUNCTION,
    PG_TRIGGERS,
    SQLITE_TRIGGERS,
    sqlite_bucket,
)

revision = "0019_member_counts"
down_revision = "0012_search_words"
branch_labels = None
depends_on = ("0006_community",)  # which depends on 0002_membership (members)


def upgrade() -> None:
    op.create_table(
        "member_counts",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("org_type", sa.String(length=16), nullable=False),
        sa.Column("pref_code", sa.String(length=2), nullable=False),
        sa.Column("muni_code", sa.String(length=6), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "status", "live", "org_type", "pref_code", "muni_code", name=op.f("pk_member_counts")
        ),
    )
    op.create_table(
        "member_approvals",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("bucket", storage.types.UTCDateTime(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "bucket", name=op.f("pk_member_approvals")),
    )
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # Only ever holds a row inside a bulk import's own write transaction (never committed).
        op.execute("CREATE TABLE member_counts_paused (one INTEGER PRIMARY KEY)")
        for _, trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        bucket = sqlite_bucket("approved_at")
        live = "left_at IS NULL"
    else:
        op.execute(PG_FUNCTION)
        for trigger in PG_TRIGGERS:
            op.execute(trigger)
        bucket = PG_BUCKET
        live = "left_at IS NULL"
    op.drop_index("ix_members_directory", table_name="members")
    op.drop_index("ix_members_approved_at", table_name="members")
    # Backfill under the migration's write lock: nothing writes members meanwhile.
    op.execute(
        f"INSERT INTO member_counts ({KEY}, n) SELECT team_id, status, {live}, coalesce(org_type, ''), "
        f"coalesce(pref_code, ''), coalesce(muni_code, ''), count(*) FROM members GROUP BY 1, 2, 3, 4, 5, 6"
    )
    op.execute(
        f"INSERT INTO member_approvals (team_id, bucket, n) SELECT team_id, {bucket}, count(*) FROM members "
        f"WHERE approved_at IS NOT NULL GROUP BY 1, 2"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, _ in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS member_counts_paused")
    else:
        for name in ("member_counts_insert", "member_counts_update", "member_counts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON members")
        op.execute("DROP FUNCTION IF EXISTS member_counts_apply()")
    op.drop_table("member_approvals")
    op.drop_table("member_counts")
    op.create_index("ix_members_approved_at", "members", ["team_id", "approved_at"])
    op.create_index(
        "ix_members_directory",
        "members",
        ["team_id", "status", "left_at", "pref_code", "org_type", "muni_code"],
    )
