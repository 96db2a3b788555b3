"""Job "events": the moments around each event, each claimed once (job_runs) and sent through the outbox.

For an event starting at S and ending at E, the slots are S - 1 day (reminder), S - YAKUBA_EVENT_REMINDER_MINUTES
(reminder), S (the waitlist hears that no seat opened) and E + YAKUBA_EVENT_SURVEY_MINUTES (the survey). Events
sharing a moment share a slot. Every DM is keyed `events:{event}:{what}:{member}`, so a slot run again after a
crash (resumable) or by `yakuba jobs run events --at` never reaches anyone twice; a second claim says `taken`.

Job "events_topics": on the 1st of each month at 09:00, the 次のテーマ候補 of the month before (the surveys'
requested topics, grouped) to the admin channel, keyed by the month.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.blocks.events import reminder_dm, survey_dm, topics_report, wait_closed_dm
from bot.services.events import group_topics
from bot.slack.context import Deps
from schedules.job import Job, cron_slots
from storage import events as store
from storage import outbox
from storage.models import Event

DAY = timedelta(days=1)


def moments(deps: Deps, event: Event) -> list[tuple[datetime, str]]:
    soon = timedelta(minutes=deps.settings.yakuba_event_reminder_minutes)
    survey = timedelta(minutes=deps.settings.yakuba_event_survey_minutes)
    return [
        (event.starts_at - DAY, "day_before"),
        (event.starts_at - soon, "soon"),
        (event.starts_at, "start"),
        (event.ends_at + survey, "survey"),
    ]


async def _near(deps: Deps, start: datetime, end: datetime) -> list[Event]:
    """Events with a moment in (start, end]: starting within a day after the window, or ending just before it."""
    survey = timedelta(minutes=deps.settings.yakuba_event_survey_minutes)
    by_start = await store.between(deps.db, team_id=deps.team_id, start=start, end=end + DAY + timedelta(seconds=1))
    by_end = await store.between(
        deps.db, team_id=deps.team_id, start=start - survey, end=end - survey + timedelta(seconds=1), on="ends_at"
    )
    return list({e.id: e for e in (*by_start, *by_end)}.values())


async def slots(deps: Deps, start: datetime, end: datetime) -> list[datetime]:
    found = {m for event in await _near(deps, start, end) for m, _ in moments(deps, event) if start < m <= end}
    return sorted(found)


async def run(deps: Deps, slot: datetime) -> str | None:
    sent = {"day_before": 0, "soon": 0, "start": 0, "survey": 0}
    texts, tz = deps.texts, deps.settings.tz
    minutes = deps.settings.yakuba_event_reminder_minutes
    for event in await _near(deps, slot - timedelta(seconds=1), slot):
        for moment, what in moments(deps, event):
            if moment != slot:
                continue
            seats = await store.people(deps.db, event_id=event.id, status=store.SEAT)
            waiting = await store.people(deps.db, event_id=event.id, status=store.WAIT)
            counts = store.Counts(len(seats), len(waiting))
            dms: dict[str, dict] = {}
            if what in ("day_before", "soon"):
                for user in seats:
                    dms[user] = reminder_dm(texts, event, which=what, tz=tz, minutes=minutes)
                for host in event.hosts or []:
                    dms[host] = reminder_dm(texts, event, which=what, tz=tz, minutes=minutes, host=True, counts=counts)
            elif what == "start":
                dms = {user: wait_closed_dm(texts, event) for user in waiting}
            else:
                dms = {user: survey_dm(texts, event) for user in seats}
            async with deps.db.write() as session:
                for user, payload in dms.items():
                    sent[what] += await outbox.enqueue(
                        session,
                        team_id=deps.team_id,
                        key=f"events:{event.id}:{what}:{user}",
                        kind="dm",
                        target=user,
                        payload=payload,
                        now=deps.clock(),
                    )
    await deps.outbox.flush()
    return " ".join(f"{k}={v}" for k, v in sent.items())


async def run_topics(deps: Deps, slot: datetime) -> str | None:
    channel = deps.settings.yakuba_admin_channel
    if not channel:
        return "no admin channel"
    local = slot.astimezone(deps.settings.tz)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = (first - timedelta(days=1)).replace(day=1)
    month = previous.strftime("%Y-%m")
    topics = await store.topics_between(deps.db, team_id=deps.team_id, start=previous, end=first)
    groups = group_topics(topics)
    async with deps.db.write() as session:
        new = await outbox.enqueue(
            session,
            team_id=deps.team_id,
            key=f"events:topics:{month}",
            kind="post",
            target=channel,
            payload=topics_report(texts=deps.texts, month=month, groups=groups),
            now=deps.clock(),
        )
    await deps.outbox.flush()
    return f"topics={len(topics)} groups={len(groups)}" if new else "already posted"


JOB = Job(name="events", summary_key="events.jobs.events", run=run, slots=slots, resumable=True)
TOPICS_JOB = Job(
    name="events_topics",
    summary_key="events.jobs.topics",
    run=run_topics,
    slots=cron_slots("0 9 1 * *"),
    resumable=True,
)
