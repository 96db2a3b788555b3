"""Job "disaster_feed": every minute, read JMA's earthquake feed and open, update or withdraw check-ins.

A tick, not a slotted job: a missed minute needs no catch-up (the next poll reads everything since), so no
backlog of minutes is run after a restart. Each minute is still claimed once in job_runs, so two replicas
never poll JMA for the same minute; posts are keyed per (event, prefecture) besides.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from bot.services.disaster import watch
from bot.slack.context import Deps
from schedules.job import Job
from storage import job_runs

NAME = "disaster_feed"
TIMEOUT_SECONDS = 10.0  # for one request to JMA; a slower answer is tried again on the next tick
KEEP_CLAIMS = timedelta(days=1)  # a minute's claim matters only while another replica might still tick it


async def run(deps: Deps, now: datetime) -> str | None:
    if not deps.settings.yakuba_jma_feed_url:
        return "off"
    slot = now.replace(second=0, microsecond=0)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    if not await job_runs.claim(deps.db, team_id=deps.team_id, job=NAME, slot=slot, owner=owner):
        return "taken"
    try:
        outcome = await watch(deps, now=now, timeout=TIMEOUT_SECONDS)
    except Exception as exc:
        await job_runs.finish(
            deps.db, team_id=deps.team_id, job=NAME, slot=slot, status="failed", detail=type(exc).__name__
        )
        raise
    await job_runs.finish(deps.db, team_id=deps.team_id, job=NAME, slot=slot, status="done", detail=outcome.detail())
    if slot.minute == 0:
        await job_runs.prune(deps.db, team_id=deps.team_id, job=NAME, before=slot - KEEP_CLAIMS)
    return outcome.detail()


JOB = Job(name=NAME, summary_key="disaster.jobs.feed", run=run)
