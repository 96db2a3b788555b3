"""Proactive pacing of chat.postMessage, so a broadcast runs at Slack's limits without provoking 429s.

Two limits, both modelled the way Slack (and tests' FakeSlack) count them:
* a workspace budget: at most `per_minute` posts in any sliding 60-second window;
* about one post per second per channel.

A post is counted from the moment its answer arrives: Slack counted it on arrival, which was earlier, so
our window always contains Slack's. A post in flight holds a reserved place in the window. A 429 pauses
everyone for its Retry-After (the pacer's model was wrong, or someone else spent the budget).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

WINDOW = 60.0


class Pacer:
    def __init__(
        self, per_minute: int, *, channel_interval: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.channel_interval = channel_interval
        self.clock = clock
        self.paused_until = 0.0
        self._sent: deque[float] = deque()
        self._inflight = 0
        self._cond = asyncio.Condition()
        self._channel_free_at: dict[str, float] = {}
        self._channel_locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # lock, [users]

    def _room(self, now: float) -> int:
        while self._sent and now - self._sent[0] >= WINDOW:
            self._sent.popleft()
        return self.per_minute - len(self._sent) - self._inflight

    async def reserve(self, most: int) -> int:
        """Wait until the window has room, then reserve up to `most` posts (at least one)."""
        async with self._cond:
            while True:
                now = self.clock()
                if now < self.paused_until:
                    wait: float | None = self.paused_until - now
                else:
                    room = self._room(now)
                    if room > 0:
                        taken = max(1, min(room, most))
                        self._inflight += taken
                        return taken
                    # Full: the oldest counted post leaves the window then, or an in-flight one returns first.
                    wait = self._sent[0] + WINDOW - now if self._sent else None
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), wait)

    async def release(self, count: int = 1, *, posted: int = 0) -> None:
        """Give back `count` reservations, `posted` of which reached Slack (and now count in the window)."""
        async with self._cond:
            self._inflight = max(0, self._inflight - count)
            now = self.clock()
            self._sent.extend([now] * posted)
            self._cond.notify_all()

    async def pause(self, seconds: float) -> None:
        """Obey a Retry-After: nothing is sent before it has passed."""
        async with self._cond:
            self.paused_until = max(self.paused_until, self.clock() + max(0.0, seconds))
            self._cond.notify_all()

    @asynccontextmanager
    async def channel(self, key: str) -> AsyncIterator[None]:
        """Hold the channel's turn: at most one post in flight per channel, one per interval, after any pause."""
        lock, users = self._channel_locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                while True:
                    now = self.clock()
                    ready = max(self._channel_free_at.get(key, 0.0), self.paused_until)
                    if now >= ready:
                        break
                    await asyncio.sleep(ready - now)
                try:
                    yield
                finally:
                    self._channel_free_at[key] = self.clock() + self.channel_interval
        finally:
            users[0] -= 1
            if users[0] == 0:  # forget idle channels: 5,000 DMs must not pile up
                self._channel_locks.pop(key, None)
                self._forget_old()

    def _forget_old(self) -> None:
        if len(self._channel_free_at) > 1000:
            now = self.clock()
            self._channel_free_at = {k: t for k, t in self._channel_free_at.items() if t > now}
