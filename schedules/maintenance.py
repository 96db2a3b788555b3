"""Housekeeping every minute: retry the outbox, bring event posts up to date, forget old Slack event ids."""

from __future__ import annotations

from datetime import datetime

from bot.services import events
from bot.slack.context import Deps
from schedules.job import Job
from storage import seen_events


async def run(deps: Deps, now: datetime) -> str | None:
    sent = await deps.outbox.flush()
    deps.announcer.kick()  # resumes deliveries left pending or leased by a process that died
    await events.sweep(deps)  # event posts whose counts could not be written when they changed
    if now.minute == 0:
        await seen_events.prune(deps.db)
    return f"sent={sent}"


JOB = Job(name="maintenance", summary_key="jobs.maintenance", run=run)
