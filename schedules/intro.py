"""Jobs "intro" (a round of introductions on YAKUBA_INTRO_SCHEDULE) and "intro_checkin" (a week later, daily).

The schedule's syntax and the move off holidays are in bot/services/intro.py (`/intro status` reads them too).
"""

from __future__ import annotations

from datetime import datetime

from bot.services.intro import round_slots, run_round, send_checkins
from bot.slack.context import Deps
from schedules.job import Job, cron_slots


async def run(deps: Deps, slot: datetime) -> str | None:
    return (await run_round(deps, slot)).detail()


async def run_checkins(deps: Deps, slot: datetime) -> str | None:
    return f"asked={await send_checkins(deps, slot)}"


JOB = Job(name="intro", summary_key="intro.jobs.round", run=run, slots=round_slots, resumable=True)
CHECKIN_JOB = Job(
    name="intro_checkin",
    summary_key="intro.jobs.checkin",
    run=run_checkins,
    slots=cron_slots("0 10 * * *"),
    resumable=True,
)
