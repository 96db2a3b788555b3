"""Housekeeping every minute: retry the outbox, forget event ids old enough that Slack no longer retries."""

from __future__ import annotations

from datetime import datetime

from bot.slack.context import Deps
from schedules.job import Job
from storage import seen_events


async def run(deps: Deps, now: datetime) -> str | None:
    sent = await deps.outbox.flush()
    deps.announcer.kick()  # resumes deliveries left pending or leased by a process that died
    if now.minute == 0:
        await seen_events.prune(deps.db)
    return f"sent={sent}"


JOB = Job(name="maintenance", summary_key="jobs.maintenance", run=run)
