"""Every morning, the admin summary: registrations waiting more than 3 business days, and the members a profile
rule approved since the last summary (each with the domain that approved them), so auto-approval stays visible.

Business days are weekdays that are not Japanese public holidays (the `holidays` package's calendar).
The summary goes through the outbox keyed by the day, so it is posted at most once a day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from bot.blocks.approvals import nudge, when
from bot.slack.context import Deps
from schedules.job import Job, cron_slots
from storage import approvals, job_runs, outbox
from storage.members import Profile

WAIT_BUSINESS_DAYS = 3
NAME = "approvals_nudge"


@lru_cache(maxsize=16)
def _japan(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _japan(day.year)


def business_days_after(start: date, end: date) -> int:
    """Business days d with start < d <= end."""
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += is_business_day(day)
        day += timedelta(days=1)
    return count


async def run(deps: Deps, slot: datetime) -> str | None:
    channel = deps.settings.yakuba_admin_channel
    if not channel:
        return "no admin channel"
    tz = deps.settings.tz
    today = slot.astimezone(tz).date()
    rows = await approvals.pending(deps.db, team_id=deps.team_id, limit=500)
    late = [
        {
            "request_id": request.id,
            "user_id": request.user_id,
            "profile": Profile.of(member),
            "submitted": when(request.submitted_at, tz),
        }
        for request, member in rows
        if business_days_after(request.submitted_at.astimezone(tz).date(), today) > WAIT_BUSINESS_DAYS
    ]
    # Since the last summary that ran (a day ago unless the bot was down): nobody is missed, nobody listed twice.
    since = await job_runs.last_done(deps.db, team_id=deps.team_id, job=NAME, before=slot) or slot - timedelta(days=1)
    auto = [
        {"user_id": member.user_id, "profile": Profile.of(member), "rule": rule}
        for member, rule in await approvals.auto_approved(deps.db, team_id=deps.team_id, start=since, end=slot)
    ]
    if not late and not auto:
        return "nothing to report"
    async with deps.db.write() as session:
        await outbox.enqueue(
            session,
            now=deps.clock(),
            team_id=deps.team_id,
            key=f"approvals-nudge:{today.isoformat()}",
            kind="post",
            target=channel,
            payload=nudge(deps.texts, late, auto),
        )
    await deps.outbox.flush()
    return f"overdue={len(late)} auto_approved={len(auto)}"


JOB = Job(name=NAME, summary_key="approvals.nudge.summary", run=run, slots=cron_slots("0 9 * * *"))
