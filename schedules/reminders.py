"""Job "reminders": N minutes (YAKUBA_REMINDER_MINUTES, default 10) before each programme goes live.

A slot is a reminder time (an occurrence start minus N); programmes starting together share one. For
each of them: a reminder in its channel, and a DM to each personality and each subscriber. Every send
is queued in the outbox under `reminder:{programme}:{start}:{recipient}`, so each person hears about
an airing once, whatever restarts or second processes happen.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.blocks.programs import reminder_message
from bot.slack.context import Deps
from schedules.job import Job
from storage import outbox, programs
from storage.recurrence import Occurrence

log = logging.getLogger(__name__)


def lead(deps: Deps) -> timedelta:
    return timedelta(minutes=deps.settings.yakuba_reminder_minutes)


async def slots(deps: Deps, start: datetime, end: datetime) -> list[datetime]:
    """Reminder times in (start, end]: every airing starting in (start + N, end + N], minus N."""
    ahead = lead(deps)
    found = await programs.occurrences_between(
        db=deps.db,
        team_id=deps.team_id,
        start=start + ahead,
        end=end + ahead + timedelta(microseconds=1),
        tz=deps.settings.tz,
    )
    return sorted({o.start - ahead for o in found if start < o.start - ahead <= end})


async def airing_at(deps: Deps, slot: datetime) -> list[Occurrence]:
    begins = slot + lead(deps)
    found = await programs.occurrences_between(
        db=deps.db, team_id=deps.team_id, start=begins, end=begins + timedelta(minutes=1), tz=deps.settings.tz
    )
    return [o for o in found if o.start == begins]


async def run(deps: Deps, slot: datetime) -> str | None:
    minutes = deps.settings.yakuba_reminder_minutes
    posts = dms = 0
    for occ in await airing_at(deps, slot):
        program = occ.programme
        subscribers = await programs.list_subscribers(db=deps.db, team_id=deps.team_id, program_id=program.id)
        # A personality who also subscribed gets one DM, the personality's.
        recipients = {user: "dm_personality" for user in program.personalities}
        for user in subscribers:
            recipients.setdefault(user, "dm_subscriber")
        prefix = f"reminder:{program.id}:{occ.start.isoformat()}"
        channel = program.target_channel(deps.settings.yakuba_broadcast_channel)
        async with deps.db.write() as session:
            if channel:
                posts += await outbox.enqueue(
                    session,
                    now=deps.clock(),
                    team_id=deps.team_id,
                    key=f"{prefix}:channel",
                    kind="post",
                    target=channel,
                    payload=reminder_message(deps.texts, occ, minutes=minutes),
                )
            else:
                log.warning("programme %s has no channel and no broadcast channel is set", program.id)
            for user, kind in recipients.items():
                dms += await outbox.enqueue(
                    session,
                    now=deps.clock(),
                    team_id=deps.team_id,
                    key=f"{prefix}:{user}",
                    kind="dm",
                    target=user,
                    payload=reminder_message(deps.texts, occ, minutes=minutes, kind=kind),
                )
    deps.outbox.kick()
    return f"posts={posts} dms={dms}"


JOB = Job(name="reminders", summary_key="programs.jobs.reminders", run=run, slots=slots, resumable=True)
