"""Directory benchmark: N generated members, the /members stats queries and the map rendering.

    .venv/bin/python bench/directory.py [--members 100000] [--repeats 30] [--db PATH]

Members are spread over the 47 prefectures and every municipality of the shipped reference data (a few
prefectural and national staff, some pending, some left), approved over the last three years, and
bulk-inserted with executemany in batches. Each measurement is repeated; the table shows p50 / p95 / max.
Slack's budget is 3 s from the command to the ack, so the stats must stay far below that.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from bench.common import percentile, table
from bot.services.directory import render_map
from storage import directory
from storage.data import municipalities
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Member

TEAM = "T_BENCH"
TZ = ZoneInfo("Asia/Tokyo")
BATCH = 10_000


def generate(n: int, now: datetime, seed: int = 7):
    rng = random.Random(seed)
    munis = [m for m in municipalities() if m.kind != "designated_city"]
    weights = [5 if m.kind in ("city", "special_ward", "designated_ward") else 1 for m in munis]
    for start in range(0, n, BATCH):
        rows = []
        for i in range(start, min(n, start + BATCH)):
            muni = rng.choices(munis, weights)[0]
            org = rng.choices(("municipality", "prefecture", "national"), (90, 8, 2))[0]
            status = rng.choices(("approved", "pending", "joined"), (90, 5, 5))[0]
            joined = now - timedelta(days=rng.uniform(0, 3 * 365))
            rows.append(
                {
                    "team_id": TEAM,
                    "user_id": f"U{i:09d}",
                    "status": status,
                    "name": f"Member {i}",
                    "org_type": org,
                    "pref_code": muni.pref_code,
                    "muni_code": muni.code if org == "municipality" else None,
                    "department": "Dept",
                    "interests": [],
                    "joined_at": joined,
                    "created_at": joined,
                    "updated_at": joined,
                    "approved_at": joined + timedelta(days=2) if status == "approved" else None,
                    "left_at": now - timedelta(days=rng.uniform(0, 400)) if rng.random() < 0.04 else None,
                    "is_lead": False,
                }
            )
        yield rows


async def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - started)
    return out


async def main(members: int, repeats: int, db_path: str | None) -> None:
    path = db_path or str(Path(tempfile.mkdtemp()) / "directory.db")
    db = Database(f"sqlite+aiosqlite:///{path}")
    now = datetime.now(UTC)
    try:
        await upgrade(db)
        started = time.perf_counter()
        async with db.write() as session:
            for rows in generate(members, now):
                await session.execute(insert(Member.__table__), rows)
        insert_s = time.perf_counter() - started
        async with db.write_connection() as conn:
            await conn.exec_driver_sql("ANALYZE")
        results = []

        async def stats():
            return await directory.stats(db, team_id=TEAM, now=now, tz=TZ)

        figures = await stats()
        results.append(("stats (GROUP BY government + 12 months)", await timed(stats, repeats)))
        results.append(
            (
                "prefecture counts (map input)",
                await timed(lambda: directory.prefecture_counts(db, team_id=TEAM), repeats),
            )
        )
        results.append(
            (
                "kenjinkai members (Tokyo, 50 shown)",
                await timed(lambda: directory.prefecture_members(db, team_id=TEAM, pref_code="13"), repeats),
            )
        )
        counts = await directory.prefecture_counts(db, team_id=TEAM)
        cold_started = time.perf_counter()
        render_map(counts)
        cold = time.perf_counter() - cold_started
        results.append(
            (
                "map rendering (PNG, warm)",
                await timed(lambda: asyncio.to_thread(render_map, counts), max(3, repeats // 5)),
            )
        )
        export_started = time.perf_counter()
        _, exported = await directory.export_csv(db, team_id=TEAM)
        export_s = time.perf_counter() - export_started
    finally:
        await db.dispose()
    print(
        f"{members:,} members inserted in {insert_s:.1f} s; {figures.members:,} counted, "
        f"{figures.governments:,} governments, {len(figures.by_prefecture)} prefectures"
    )
    rows = [(name, percentile(s, 50) * 1000, percentile(s, 95) * 1000, max(s) * 1000, len(s)) for name, s in results]
    rows.append(("map rendering (first, imports Pillow)", cold * 1000, cold * 1000, cold * 1000, 1))
    rows.append((f"export CSV ({exported:,} rows)", export_s * 1000, export_s * 1000, export_s * 1000, 1))
    print(table(("measure", "p50 ms", "p95 ms", "max ms", "runs"), rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--db", default=None, help="SQLite file to use (default: a temporary one)")
    args = parser.parse_args()
    asyncio.run(main(args.members, args.repeats, args.db))
