"""Scheduled announcements: each send time is a slot, claimed once across processes, then fanned out."""

from __future__ import annotations

from datetime import datetime

from bot.slack.context import Deps
from schedules.job import Job
from storage import announcements as store


async def slots(deps: Deps, start: datetime, end: datetime) -> list[datetime]:
    return await store.scheduled_slots(deps.db, team_id=deps.team_id, start=start, end=end)


async def run(deps: Deps, slot: datetime) -> str | None:
    """Scheduled → sending for what is due at `slot`; the deliveries already exist, the worker sends them."""
    started = await store.start_due(deps.db, team_id=deps.team_id, slot=slot)
    if started:
        deps.announcer.kick()
    return f"started={len(started)}"


# Resumable: starting is an idempotent status change, and the deliveries are keyed rows.
JOB = Job(name="announcements", summary_key="announcements.job", run=run, slots=slots, resumable=True)
