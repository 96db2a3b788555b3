"""Scale: import millions of generated members with bounded memory, then time the `/members stats` query.

    .venv/bin/python -m bench.members                                   # 3,380,000 members, temp SQLite file
    .venv/bin/python -m bench.members --members 1000000 \\
        --database postgresql+asyncpg://postgres@127.0.0.1:54360/postgres

3.38 million is roughly the size of Japan's public sector. The migrations are applied first, so the rows
go into the real schema with all its indexes (unique (team_id, user_id), status, pref_code, directory,
approved_at): what an import into a live database costs, not a bare table.

Distribution: each member belongs to a prefecture drawn with weights proportional to its population
(approximate 2020 census figures in units of 10,000, rounded: a crude weighting, good enough to give
Tokyo ~11 % and Tottori ~0.4 % of the rows). Within a prefecture the municipality is drawn with the same
crude kind weights as bench/directory.py (cities and wards 5, towns 1, villages 1/2; designated cities
themselves are not drawn, their wards are). 88 % work for a municipality, 10 % for the prefecture, 2 % for
the State; 90 % approved, 5 % pending, 5 % joined; 4 % have left; joined over the last three years.

Memory: rows are generated one batch at a time (--batch, default 20,000) and written by
storage.members.import_batch, one transaction per batch: one executemany with the per-row count trigger
paused and the batch's aggregate added to member_counts (SQLite, with a bounded 32 MiB page cache), or
asyncpg's COPY whose statement trigger adds the aggregate (PostgreSQL); nothing else is kept, so peak RSS
does not grow with --members.

Reported: import time and rows/s, peak RSS of this process (resource.getrusage), the database size, and
`storage.directory.stats` (what `/members stats` and App Home run) timed --repeats times (p50, p95, min, max;
the first run is shown apart as "cold"). --max-seconds bounds the import: when it runs out, the rows imported so far are
measured and the full size is extrapolated linearly, clearly labelled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import peak_rss_mb, percentile, table
from storage import directory, members
from storage.data import municipalities, prefectures
from storage.db import Database
from storage.migrate import upgrade

TEAM = "T_SCALE"
TZ = ZoneInfo("Asia/Tokyo")
JAPAN_PUBLIC_SECTOR = 3_380_000

# Approximate population per prefecture (2020 census, units of 10,000, rounded), by JIS code 01..47.
POPULATION = (
    522,
    124,
    121,
    230,
    96,
    107,
    183,
    287,
    193,
    194,
    734,
    628,
    1405,
    924,
    220,
    103,
    113,
    77,
    81,
    205,
    198,
    363,
    754,
    177,
    141,
    258,
    884,
    547,
    132,
    92,
    55,
    67,
    189,
    280,
    134,
    72,
    95,
    133,
    69,
    514,
    81,
    131,
    174,
    112,
    107,
    159,
    147,
)
KIND_WEIGHT = {"city": 5.0, "special_ward": 5.0, "designated_ward": 5.0, "town": 1.0, "village": 0.5}
ORG_TYPES, ORG_WEIGHTS = ("municipality", "prefecture", "national"), (88, 10, 2)
STATUSES, STATUS_WEIGHTS = ("approved", "pending", "joined"), (90, 5, 5)

COLUMNS = (
    "team_id",
    "user_id",
    "status",
    "joined_at",
    "left_at",
    "created_at",
    "updated_at",
    "name",
    "org_type",
    "pref_code",
    "muni_code",
    "department",
    "title",
    "interests",
    "registered_at",
    "approved_at",
    "is_lead",
)


def municipality_weights() -> tuple[list, list[float]]:
    """Every drawable municipality and its cumulative weight: prefecture population x kind weight."""
    pop = {p.code: POPULATION[int(p.code) - 1] for p in prefectures()}
    munis = [m for m in municipalities() if m.kind in KIND_WEIGHT]
    per_pref: dict[str, float] = {}
    for m in munis:
        per_pref[m.pref_code] = per_pref.get(m.pref_code, 0.0) + KIND_WEIGHT[m.kind]
    cumulative, total = [], 0.0
    for m in munis:
        total += pop[m.pref_code] * KIND_WEIGHT[m.kind] / per_pref[m.pref_code]
        cumulative.append(total)
    return munis, cumulative


def batches(n: int, size: int, now: datetime, seed: int = 7):
    """Yield lists of row tuples (COLUMNS order, naive UTC datetimes), `size` at a time."""
    rng = random.Random(seed)
    munis, cumulative = municipality_weights()
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    three_years = 3 * 365 * 86400.0
    for start in range(0, n, size):
        k = min(size, n - start)
        drawn = rng.choices(munis, cum_weights=cumulative, k=k)
        orgs = rng.choices(ORG_TYPES, ORG_WEIGHTS, k=k)
        statuses = rng.choices(STATUSES, STATUS_WEIGHTS, k=k)
        rows = []
        for j in range(k):
            i = start + j
            muni, org, status = drawn[j], orgs[j], statuses[j]
            joined = naive_now - timedelta(seconds=rng.random() * three_years)
            approved = joined + timedelta(days=2) if status == "approved" else None
            left = naive_now - timedelta(days=rng.random() * 400) if rng.random() < 0.04 else None
            rows.append(
                (
                    TEAM,
                    f"U{i:09d}",
                    status,
                    joined,
                    left,
                    joined,
                    joined,
                    f"Member {i}",
                    org,
                    muni.pref_code,
                    muni.code if org == "municipality" else None,
                    "総務課",
                    None,
                    "[]",
                    joined if status != "joined" else None,
                    approved,
                    False,
                )
            )
        yield rows


async def import_members(db: Database, n: int, size: int, now: datetime, limit: float) -> int:
    """Insert up to n members; stop early (between batches) after `limit` seconds. Returns the rows written."""
    started = time.perf_counter()
    done = 0
    for rows in batches(n, size, now):
        # What an import does: one transaction per batch, the member counts updated in it (storage.members).
        await members.import_batch(db, COLUMNS, rows)
        done += len(rows)
        if done % (size * 10) == 0:
            print(f"  {done:,} rows, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        if time.perf_counter() - started >= limit:
            break
    return done


async def database_size(db: Database, sqlite_path: Path | None) -> tuple[float, float | None]:
    """(whole database MiB, members table + indexes MiB or None when unknown)."""
    if sqlite_path is not None:
        files = [sqlite_path, Path(f"{sqlite_path}-wal")]
        whole = sum(f.stat().st_size for f in files if f.exists()) / 2**20
        async with db.read() as session:
            try:
                members = (
                    await session.execute(
                        text("SELECT sum(pgsize) FROM dbstat WHERE name = 'members' OR tbl_name = 'members'")
                    )
                ).scalar()
            except Exception:  # noqa: BLE001 - dbstat is a compile-time option of SQLite
                members = None
        return whole, (members / 2**20 if members else None)
    async with db.read() as session:
        whole = (await session.execute(text("SELECT pg_database_size(current_database())"))).scalar()
        members = (await session.execute(text("SELECT pg_total_relation_size('members')"))).scalar()
    return whole / 2**20, members / 2**20


async def run(args: argparse.Namespace) -> int:
    tmp = None
    url = args.database
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="yakuba-members-")
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'members.db'}"
    parsed = make_url(url)
    sqlite_path = Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None
    db = Database(url)
    now = datetime.now(UTC)
    try:
        await upgrade(db)
        async with db.read() as session:
            existing = (
                await session.execute(text("SELECT count(*) FROM members WHERE team_id = :t"), {"t": TEAM})
            ).scalar()
        if existing:
            print(f"the database already holds {existing:,} bench members (team {TEAM}); use a fresh one")
            return 2
        print(
            f"importing {args.members:,} members into {parsed.get_backend_name()} "
            f"in batches of {args.batch:,} (limit {args.max_seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        imported = await import_members(db, args.members, args.batch, now, args.max_seconds)
        import_s = time.perf_counter() - started
        analyze_started = time.perf_counter()
        async with db.write_connection() as conn:
            await conn.execute(text("ANALYZE"))
        analyze_s = time.perf_counter() - analyze_started
        rss_after_import = peak_rss_mb()
        whole_mb, members_mb = await database_size(db, sqlite_path)

        timings = []
        figures = None
        for _ in range(args.repeats + 1):
            t0 = time.perf_counter()
            figures = await directory.stats(db, team_id=TEAM, now=now, tz=TZ)
            timings.append(time.perf_counter() - t0)
        cold, warm = timings[0], timings[1:]
    finally:
        await db.dispose()
        if tmp is not None:
            tmp.cleanup()

    partial = imported < args.members
    rate = imported / import_s
    print(
        f"yakuba members bench: {parsed.get_backend_name()} ({parsed.drivername}), "
        f"{imported:,} of {args.members:,} members imported, batch {args.batch:,}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)"
    )
    print()
    rows = [
        ("import time s", import_s),
        ("import rows/s", rate),
        ("ANALYZE s", analyze_s),
        ("peak RSS MiB (whole process, after import)", rss_after_import),
        ("peak RSS MiB before import (interpreter + imports)", rss_before),
        ("database size MiB", whole_mb),
        ("members table + indexes MiB", members_mb if members_mb is not None else float("nan")),
        ("stats p50 ms", percentile(warm, 50) * 1000),
        ("stats p95 ms", percentile(warm, 95) * 1000),
        ("stats min / max ms", f"{min(warm) * 1000:,.0f} / {max(warm) * 1000:,.0f}"),
        ("stats cold (first run) ms", cold * 1000),
    ]
    print(table(("measure", "value"), rows))
    assert figures is not None
    print(
        f"stats saw {figures.members:,} counted members, {figures.governments:,} governments, "
        f"{len(figures.by_prefecture)} prefectures; {len(warm)} timed runs after the cold one; "
        f"peak RSS is the final peak of the whole process, stats runs included"
    )
    if partial:
        scale = args.members / imported
        print(
            f"EXTRAPOLATED (import stopped by --max-seconds {args.max_seconds:.0f} at {imported:,} rows): "
            f"{args.members:,} members would take about {import_s * scale:,.0f} s at the same rate "
            f"(linear; index maintenance makes the real figure larger), database about {whole_mb * scale:,.0f} MiB"
        )
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=JAPAN_PUBLIC_SECTOR, help="members to import (3,380,000)")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--batch", type=int, default=20_000, help="rows per executemany / COPY (20,000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed stats runs after the cold one (5)")
    parser.add_argument("--max-seconds", type=float, default=720.0, help="import time limit, then extrapolate (720)")
    args = parser.parse_args(argv)
    if not 1 <= args.members <= 20_000_000:
        parser.error("--members must be between 1 and 20,000,000")
    if not 100 <= args.batch <= 200_000:
        parser.error("--batch must be between 100 and 200,000")
    if not 1 <= args.repeats <= 50:
        parser.error("--repeats must be between 1 and 50")
    return args


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
