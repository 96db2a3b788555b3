"""Job "digest": every morning (YAKUBA_DIGEST_TIME, default 08:30 in YAKUBA_TZ) today's line-up is posted.

The post goes to the broadcast channel (YAKUBA_BROADCAST_CHANNEL) with every programme of the day, a
programme's own channel included, because the line-up is the one place that shows the whole day.
It is queued in the outbox under `digest:{local date}`: a crash after the claim, a second process or a
changed digest time never give a day two line-ups.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.blocks.programs import lineup_message
from bot.slack.context import Deps
from schedules.job import Job, cron_slots
from storage import outbox, programs
from storage.recurrence import holiday_name

log = logging.getLogger(__name__)


def crontab(time_of_day: str) -> str:
    hour, minute = (int(part) for part in time_of_day.split(":"))
    return f"{minute} {hour} * * *"


async def slots(deps: Deps, start: datetime, end: datetime) -> list[datetime]:
    # Read the setting on every call: the Job is a module constant, the settings are per app.
    return await cron_slots(crontab(deps.settings.yakuba_digest_time))(deps, start, end)


async def run(deps: Deps, slot: datetime) -> str | None:
    settings = deps.settings
    day = slot.astimezone(settings.tz).date()
    today = await programs.lineup(db=deps.db, team_id=deps.team_id, day=day, tz=settings.tz)
    if not today and not settings.yakuba_digest_empty:
        return "nothing on air"
    channel = settings.yakuba_broadcast_channel
    if not channel:
        log.warning("digest for %s not posted: YAKUBA_BROADCAST_CHANNEL is not set", day.isoformat())
        return "no broadcast channel"
    payload = lineup_message(
        deps.texts,
        day,
        today,
        minutes=settings.yakuba_reminder_minutes,
        broadcast=channel,
        holiday=holiday_name(day),
    )
    async with deps.db.write() as session:
        queued = await outbox.enqueue(
            session,
            now=deps.clock(),
            team_id=deps.team_id,
            key=f"digest:{day.isoformat()}",
            kind="post",
            target=channel,
            payload=payload,
        )
    deps.outbox.kick()
    return f"programmes={len(today)}" + ("" if queued else " (already queued)")


JOB = Job(name="digest", summary_key="programs.jobs.digest", run=run, slots=slots, resumable=True)
