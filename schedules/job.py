"""What a scheduled job is: its slots (the moments it is due) and what it does for one slot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.slack.context import Deps

SlotsFn = Callable[[Deps, datetime, datetime], Awaitable[list[datetime]]]
RunFn = Callable[[Deps, datetime], Awaitable[str | None]]


@dataclass(frozen=True)
class Job:
    """`slots(deps, start, end)` lists occurrences in (start, end], aware UTC; None marks a maintenance tick.

    A slotted job runs at most once per slot (claimed in job_runs); a tick runs every minute, unclaimed,
    and must itself be safe to run concurrently (the outbox flush leases rows one by one).
    """

    name: str
    summary_key: str
    run: RunFn
    slots: SlotsFn | None = None
    # True when `run` may be repeated for a slot without effect (its sends are keyed in the outbox): after a
    # restart, a slot claimed but never finished (the process died mid-run) is then run again within grace.
    resumable: bool = False


def cron_slots(expression: str) -> SlotsFn:
    """Slots of a crontab line read in YAKUBA_TZ (e.g. "30 8 * * *" is 08:30 JST every day)."""

    async def slots(deps: Deps, start: datetime, end: datetime) -> list[datetime]:
        trigger = CronTrigger.from_crontab(expression, timezone=deps.settings.tz)
        out: list[datetime] = []
        previous = None
        current = trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
        while current is not None and current <= end:
            out.append(current.astimezone(start.tzinfo))
            previous = current
            current = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
        return out

    return slots
