"""Member counts: rebuild them from the register (`yakuba db recount`), compare them, bulk-insert members.

The triggers of revision 0019 keep member_counts and member_approvals in step with every change to members;
this module is what stands outside them: the full recount (also what the tests compare the kept counts to)
and the SQLite bulk insert that pauses the per-row triggers for its batch and adds the batch's aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.db import Database

KEY = "team_id, status, live, org_type, pref_code, muni_code"
_GROUPS = (
    "SELECT team_id, status, left_at IS NULL AS live, coalesce(org_type, '') AS org_type, "
    "coalesce(pref_code, '') AS pref_code, coalesce(muni_code, '') AS muni_code, count(*) AS n "
    "FROM members {where} GROUP BY 1, 2, 3, 4, 5, 6"
)
_BUCKET = {
    # The same quarter hour as the triggers compute (see 0019): SQLite stores DateTime as ISO text.
    "sqlite": "substr(approved_at, 1, 14) || printf('%02d:00.000000', "
    "CAST(substr(approved_at, 15, 2) AS INTEGER) / 15 * 15)",
    "postgresql": "date_trunc('hour', approved_at) + floor(extract(minute FROM approved_at) / 15)::int "
    "* interval '15 minutes'",
}
_APPROVALS = (
    "SELECT team_id, {bucket} AS bucket, count(*) AS n FROM members WHERE approved_at IS NOT NULL {more} GROUP BY 1, 2"
)

IMPORT_CACHE_KIB = 32 * 1024

CountKey = tuple[str, str, bool, str, str, str]


@dataclass(frozen=True)
class Snapshot:
    """Every non-zero count: (team, status, live, org_type, pref, muni) → n, and (team, bucket text) → n."""

    counts: dict[CountKey, int]
    approvals: dict[tuple[str, str], int]


def _dialect(session: AsyncSession | AsyncConnection) -> str:
    return session.bind.dialect.name if isinstance(session, AsyncSession) else session.dialect.name


async def recounted(session: AsyncSession) -> Snapshot:
    """What the counts should be, from a full pass over members."""
    bucket = _BUCKET[_dialect(session)]
    counts = await session.execute(text(_GROUPS.format(where="")))
    approvals = await session.execute(text(_APPROVALS.format(bucket=bucket, more="")))
    return _snapshot(counts, approvals)


async def kept(session: AsyncSession) -> Snapshot:
    """What the counts are, as the triggers and the last recount left them."""
    counts = await session.execute(text(f"SELECT {KEY}, n FROM member_counts WHERE n <> 0"))
    approvals = await session.execute(text("SELECT team_id, bucket, n FROM member_approvals WHERE n <> 0"))
    return _snapshot(counts, approvals)


def _snapshot(counts, approvals) -> Snapshot:
    return Snapshot(
        counts={(t, s, bool(live), o, p, m): int(n) for t, s, live, o, p, m, n in counts},
        approvals={(t, str(b)[:16]): int(n) for t, b, n in approvals},
    )


@dataclass(frozen=True)
class Recount:
    members: int
    groups: int
    buckets: int


async def recount(db: Database) -> Recount:
    """Rebuild both tables from members in one write transaction (idempotent; writers wait meanwhile)."""
    async with db.write() as session:
        if not db.is_sqlite:
            # Writers keep the counts too: hold them off while the tables are rebuilt, readers go on.
            await session.execute(text("LOCK TABLE members IN SHARE ROW EXCLUSIVE MODE"))
        await session.execute(text("DELETE FROM member_counts"))
        await session.execute(text("DELETE FROM member_approvals"))
        await session.execute(text(f"INSERT INTO member_counts ({KEY}, n) {_GROUPS.format(where='')}"))
        bucket = _BUCKET[db.dialect]
        await session.execute(
            text(f"INSERT INTO member_approvals (team_id, bucket, n) {_APPROVALS.format(bucket=bucket, more='')}")
        )
        members, groups = (await session.execute(text("SELECT coalesce(sum(n), 0), count(*) FROM member_counts"))).one()
        buckets = await session.scalar(text("SELECT count(*) FROM member_approvals"))
    return Recount(members=int(members), groups=int(groups), buckets=int(buckets or 0))


async def bulk_insert(conn: AsyncConnection, statement: str, rows: Sequence[tuple]) -> None:
    """SQLite: one executemany of new members with the per-row insert trigger paused, then the batch's aggregate.

    Must run inside the caller's write transaction (BEGIN IMMEDIATE): the pause row is never committed, so no
    other connection ever sees it, and a failed batch rolls back with its counts. The batch is found by id:
    SQLite gives each new row max(id) + 1, so `rows` must not bring their own ids.
    """
    # A bounded page cache for this connection (SQLite's default is 2 MiB): the indexes' pages a batch touches
    # stay in memory instead of being read again for every row; memory stays flat (1.8x on 300,000 rows).
    await conn.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    before = (await conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM members")).scalar()
    await conn.exec_driver_sql("INSERT INTO member_counts_paused (one) VALUES (1)")
    await conn.exec_driver_sql(statement, rows)
    await conn.exec_driver_sql("DELETE FROM member_counts_paused")
    where = f"WHERE id > {int(before)}"
    await conn.exec_driver_sql(
        f"INSERT INTO member_counts ({KEY}, n) {_GROUPS.format(where=where)} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n"
    )
    await conn.exec_driver_sql(
        f"INSERT INTO member_approvals (team_id, bucket, n) "
        f"{_APPROVALS.format(bucket=_BUCKET['sqlite'], more=f'AND id > {int(before)}')} "
        f"ON CONFLICT (team_id, bucket) DO UPDATE SET n = n + excluded.n"
    )
