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

revision = "0019_member_counts"
down_revision = "0012_search_words"
branch_labels = None
depends_on = ("0006_community",)  # which depends on 0002_membership (members)

KEY = "team_id, status, live, org_type, pref_code, muni_code"


def _values(row: str) -> str:
    return (
        f"{row}.team_id, {row}.status, {row}.left_at IS NULL, coalesce({row}.org_type, ''), "
        f"coalesce({row}.pref_code, ''), coalesce({row}.muni_code, '')"
    )


def _sqlite_bucket(column: str) -> str:
    # DateTime is stored as text 'YYYY-MM-DD HH:MM:SS.ffffff'; the minute is floored to a quarter hour.
    return f"substr({column}, 1, 14) || printf('%02d:00.000000', CAST(substr({column}, 15, 2) AS INTEGER) / 15 * 15)"


def _sqlite_count(row: str, delta: int) -> str:
    return (
        f"INSERT INTO member_counts ({KEY}, n) VALUES ({_values(row)}, {delta}) "
        f"ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;"
    )


def _sqlite_approval(row: str, delta: int) -> str:
    return (
        f"INSERT INTO member_approvals (team_id, bucket, n) SELECT {row}.team_id, {_sqlite_bucket(row + '.approved_at')}, "
        f"{delta} WHERE {row}.approved_at IS NOT NULL "
        f"ON CONFLICT (team_id, bucket) DO UPDATE SET n = n + excluded.n;"
    )


SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER member_counts_insert AFTER INSERT ON members
        WHEN NOT EXISTS (SELECT 1 FROM member_counts_paused)
    BEGIN
        {_sqlite_count("NEW", 1)}
        {_sqlite_approval("NEW", 1)}
    END""",
    f"""CREATE TRIGGER member_counts_delete AFTER DELETE ON members BEGIN
        {_sqlite_count("OLD", -1)}
        {_sqlite_approval("OLD", -1)}
    END""",
    f"""CREATE TRIGGER member_counts_update
        AFTER UPDATE OF team_id, status, left_at, org_type, pref_code, muni_code ON members
        WHEN OLD.team_id IS NOT NEW.team_id OR OLD.status IS NOT NEW.status
          OR (OLD.left_at IS NULL) IS NOT (NEW.left_at IS NULL) OR OLD.org_type IS NOT NEW.org_type
          OR OLD.pref_code IS NOT NEW.pref_code OR OLD.muni_code IS NOT NEW.muni_code
    BEGIN
        {_sqlite_count("OLD", -1)}
        {_sqlite_count("NEW", 1)}
    END""",
    f"""CREATE TRIGGER member_approvals_update AFTER UPDATE OF team_id, approved_at ON members
        WHEN OLD.team_id IS NOT NEW.team_id OR OLD.approved_at IS NOT NEW.approved_at
    BEGIN
        {_sqlite_approval("OLD", -1)}
        {_sqlite_approval("NEW", 1)}
    END""",
)

PG_BUCKET = (
    "date_trunc('hour', approved_at) + floor(extract(minute FROM approved_at) / 15)::int * interval '15 minutes'"
)
PG_COUNT_ROWS = (
    "team_id, status, left_at IS NULL AS live, coalesce(org_type, '') AS org_type, "
    "coalesce(pref_code, '') AS pref_code, coalesce(muni_code, '') AS muni_code"
)


def _pg_apply(source: str) -> str:
    """Upsert the deltas of `source` (rows with the key columns and d), in key order, skipping net zeros."""
    return f"""
        INSERT INTO member_counts AS c ({KEY}, n)
        SELECT {KEY}, sum(d) FROM ({source.format(cols=PG_COUNT_ROWS)}) AS delta
        GROUP BY {KEY} HAVING sum(d) <> 0 ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET n = c.n + excluded.n;
        INSERT INTO member_approvals AS a (team_id, bucket, n)
        SELECT team_id, bucket, sum(d) FROM ({source.format(cols=f"team_id, {PG_BUCKET} AS bucket")}) AS delta
        WHERE bucket IS NOT NULL
        GROUP BY team_id, bucket HAVING sum(d) <> 0 ORDER BY team_id, bucket
        ON CONFLICT (team_id, bucket) DO UPDATE SET n = a.n + excluded.n;"""


PG_FUNCTION = f"""
CREATE FUNCTION member_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_apply("SELECT {cols}, 1 AS d FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_pg_apply("SELECT {cols}, -1 AS d FROM old_rows")}
    ELSE
        {_pg_apply("SELECT {cols}, -1 AS d FROM old_rows UNION ALL SELECT {cols}, 1 AS d FROM new_rows")}
    END IF;
    RETURN NULL;
END
$$"""
PG_TRIGGERS = (
    "CREATE TRIGGER member_counts_insert AFTER INSERT ON members REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION member_counts_apply()",
    "CREATE TRIGGER member_counts_update AFTER UPDATE ON members REFERENCING OLD TABLE AS old_rows "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION member_counts_apply()",
    "CREATE TRIGGER member_counts_delete AFTER DELETE ON members REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION member_counts_apply()",
)


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
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        bucket = _sqlite_bucket("approved_at")
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
        for name in ("member_counts_insert", "member_counts_delete", "member_counts_update", "member_approvals_update"):
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
