"""Benchmark `yakuba members sync`: N users in the fake Slack with users.list rate-limited like Tier 2.

    .venv/bin/python bench/members_sync.py [--users 50000] [--per-minute 20] [--no-trace]

Prints a table: pages, 429s answered, wall time, throughput, peak RSS of the process (the fake Slack and
its N users live in the same process) and the peak of Python allocations during the sync (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from bot.services.membership import sync_members
from storage.models import Member
from tests.fake_slack import started_fake_slack

TOKEN = "xoxb-bench"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def bench(users: int, per_minute: int, trace: bool) -> dict[str, str]:
    slack = await started_fake_slack(tokens=[TOKEN])
    try:
        for i in range(users):
            slack.ws.add_user(f"user{i}", f"職員 {i}", deleted=i % 97 == 0)
        slack.method_rate("users.list", per_minute or None)
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                _env_file=None,
                slack_bot_token=TOKEN,
                slack_api_url=slack.base_url,
                database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
            )
            yakuba = create_app(settings)
            await yakuba.start(schedule=False)
            try:
                rss_before = rss_mb()
                if trace:
                    tracemalloc.start()
                started = time.perf_counter()
                report = await sync_members(yakuba.deps, team_id=yakuba.deps.team_id)
                elapsed = time.perf_counter() - started
                traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
                tracemalloc.stop()
                async with yakuba.deps.db.read() as session:
                    stored = await session.scalar(select(func.count(Member.id)))
            finally:
                await yakuba.close()
        refused = sum(1 for c in slack.calls_to("users.list") if c.status == 429)
        return {
            "users in workspace": f"{users:,} (+ bot, Slackbot)",
            "users.list limit": f"{per_minute}/min" if per_minute else "off",
            "pages (limit 200)": str(report.pages),
            "429 answered": str(refused),
            "members stored": f"{stored:,} ({report.skipped} skipped)",
            "wall time": f"{elapsed:,.1f} s",
            "throughput": f"{report.seen / elapsed:,.0f} users/s",
            "peak RSS (whole process)": f"{rss_mb():,.0f} MiB (before sync {rss_before:,.0f} MiB)",
            "peak Python allocations during sync": f"{traced:,.1f} MiB" if traced is not None else "not traced",
        }
    finally:
        await slack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--per-minute", type=int, default=20, help="users.list calls per minute (0: no limit)")
    parser.add_argument("--no-trace", action="store_true", help="skip tracemalloc (it slows the sync down)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    figures = asyncio.run(bench(args.users, args.per_minute, not args.no_trace))
    table = Table(title="yakuba members sync against the fake Slack")
    table.add_column("measure", style="bold")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name, value)
    Console().print(table)


if __name__ == "__main__":
    main()
