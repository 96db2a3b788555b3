"""Paced, coalesced chat.update of our posts: a change asks for an update, changes arriving meanwhile are folded
into the next one, and one post is written at most once per `interval` (Slack's per-channel pace).

Shared by the disaster check-ins' tallies and the events' seat counts: each gives the function that rewrites
one post (by its row id) and answers False when the post cannot be written yet (not sent, Slack away).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.slack.context import Deps

log = logging.getLogger(__name__)

RefreshFn = Callable[[Deps, int], Awaitable[bool]]


class PacedRefresher:
    """One update loop per post in this process: kicks mark it dirty, the loop folds them into one update."""

    interval = 1.0  # seconds between two updates of one post (Slack allows about one write per channel second)
    retries = 30  # updates tried again while the post is not sent yet; after that a sweep must take over

    def __init__(self, deps: Deps, refresh: RefreshFn, *, name: str) -> None:
        self.deps = deps
        self.refresh = refresh
        self.name = name
        self._dirty: set[int] = set()
        self._loops: set[int] = set()

    def kick(self, row: int) -> None:
        self._dirty.add(row)
        if row not in self._loops:
            self._loops.add(row)
            self.deps.spawn(self._loop(row), name=self.name)

    async def _loop(self, row: int) -> None:
        misses = 0
        try:
            while row in self._dirty:
                self._dirty.discard(row)
                try:
                    done = await self.refresh(self.deps, row)
                except Exception as exc:  # noqa: BLE001 - a later kick or sweep brings the post up to date
                    log.warning("%s: post not refreshed: %s", self.name, type(exc).__name__)
                    done = False
                if not done and misses < self.retries:
                    # Not posted yet (the outbox is still sending it) or Slack was away: try again shortly.
                    misses += 1
                    self._dirty.add(row)
                if row in self._dirty:
                    await asyncio.sleep(self.interval)
        finally:
            self._loops.discard(row)
