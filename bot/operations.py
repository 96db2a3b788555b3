"""Operator commands run from the shell (`yakuba jobs …`, imports, set-up): the same code the app runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

from bot.app import Yakuba, create_app
from bot.config import Settings
from schedules.scheduler import Scheduler

console = Console()


@asynccontextmanager
async def running(settings: Settings, *, need_slack: bool = True) -> AsyncIterator[Yakuba]:
    """A started app without the ticker: migrated database and, when Slack is needed, our identity."""
    if need_slack:
        settings.require("SLACK_BOT_TOKEN")
    yakuba = create_app(settings)
    try:
        await yakuba.start(schedule=False) if need_slack else await _migrate_only(yakuba)
        yield yakuba
        await yakuba.deps.drain()
    finally:
        await yakuba.close()


async def _migrate_only(yakuba: Yakuba) -> None:
    from storage import migrate

    await migrate.upgrade(yakuba.deps.db)


async def list_jobs(settings: Settings) -> None:
    async with running(settings, need_slack=False) as yakuba:
        scheduler = Scheduler(yakuba.deps)
        now = yakuba.deps.clock()
        upcoming = await scheduler.upcoming(now)
        table = Table(title=f"jobs ({settings.yakuba_tz})")
        table.add_column("job", style="bold")
        table.add_column("what")
        table.add_column("next")
        texts = yakuba.deps.texts
        for name, job in scheduler.jobs.items():
            times = upcoming[name]
            when = ", ".join(t.astimezone(settings.tz).strftime("%m-%d %a %H:%M") for t in times) or "every minute"
            table.add_row(name, texts(job.summary_key), when)
        console.print(table)


async def run_job(settings: Settings, name: str, at: datetime | None) -> None:
    async with running(settings) as yakuba:
        scheduler = Scheduler(yakuba.deps)
        job = scheduler.jobs.get(name)
        if job is None:
            raise click.ClickException(f"no job named {name!r}; see `yakuba jobs list`")
        moment = at or yakuba.deps.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=settings.tz)
        results = await scheduler.tick(job, moment)
        if not results:
            console.print(f"{name}: nothing due at {moment.isoformat()}")
        for slot, outcome in results:
            console.print(f"{name} {slot.astimezone(settings.tz).isoformat()} → {outcome}")
