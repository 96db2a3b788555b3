"""The tests' clock: a chosen moment that runs forward like a real clock, never the date of the machine.

Every app a test builds gets one (conftest's `signed` fixture, `create_app(..., clock=TestClock(...))`), so
the scheduler, catch-up, the outbox and every job see the same time wherever the suite runs: CI runs the
suite again with the machine's clock moved to awkward moments (.ci/run) and it must pass there too.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
# An ordinary Wednesday morning: no holiday, no month or year boundary, before the daily 08:30 line-up.
DEFAULT_START = datetime(2026, 11, 25, 7, 0, tzinfo=JST)


class TestClock:
    """`clock()` is `start` plus the time elapsed since (monotonic), so leases and back-offs still expire.

    `set(moment)` jumps to a moment; `advance(delta)` moves forward; `freeze()` stops it running.
    """

    __test__ = False  # not a test class, whatever its name

    def __init__(self, start: datetime = DEFAULT_START, *, frozen: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("TestClock needs an aware datetime")
        self._base = start.astimezone(UTC)
        self._t0 = time.monotonic()
        self._frozen = frozen
        self._ahead = 0.0  # every move forward, for ticks()

    def __call__(self) -> datetime:
        if self._frozen:
            return self._base
        return self._base + timedelta(seconds=time.monotonic() - self._t0)

    def ticks(self) -> float:
        """Seconds that only run forward (the app's pacing reads these): real time plus every move forward."""
        return time.monotonic() + self._ahead

    def set(self, moment: datetime) -> None:
        self._ahead += max(0.0, (moment - self()).total_seconds())
        self._base, self._t0 = moment.astimezone(UTC), time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self() + delta)

    def freeze(self, moment: datetime | None = None) -> None:
        if moment is not None:
            self._ahead += max(0.0, (moment - self()).total_seconds())
        self._base, self._frozen = (moment or self()).astimezone(UTC), True
