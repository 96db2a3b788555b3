"""Sends what the outbox holds: each row exactly once, retried on transient errors, failed on permanent ones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from bot.slack.client import PERMANENT_ERRORS
from bot.slack.context import Deps
from bot.slack.leases import Renewal, me
from storage import outbox as store
from storage.models import OutboxMessage
from storage.outbox import UNCERTAIN

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 8
RENEW_EVERY = store.LEASE.total_seconds() / 3  # a lease outlives two missed renewals


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


class Step(Protocol):
    """What the outbox does for a row kind that is not a message (an "invite"), with the same lease and back-off.

    `run` raises as a post would (SlackApiError, timeouts), and the row is retried or failed the same way; it
    returns what a post returns ({"channel": …}). `failed` hears that the row failed for good just before it is
    marked so; a crash in between hears it again, so what it queues must be keyed.
    """

    async def run(self, row: OutboxMessage) -> dict[str, Any]: ...
    async def failed(self, row: OutboxMessage, error: str) -> None: ...


class Outbox:
    """One pool of senders per process: `kick()` only wakes it, so a burst of events costs one drain, not one each.

    Up to CONCURRENCY rows are in flight; whenever one finishes, or a kick says rows were queued, the pool claims
    again, so one slow call (held up to the client's deadline) never holds the rows queued after it.
    """

    CONCURRENCY = 8  # rows sent at once: different DMs/channels, well inside Slack's per-channel limits

    def __init__(self, deps: Deps, steps: Mapping[str, Step] | None = None) -> None:
        self.deps = deps
        self.steps = dict(steps or {})
        self._lock = asyncio.Lock()
        self._again = False
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task | None = None
        self._renewal = Renewal(self._renew, RENEW_EVERY)

    def kick(self) -> None:
        """Send what is due soon, after the current handler returns."""
        self._again = True
        self._wake.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = self.deps.spawn(self._drain(), name="outbox.flush")

    async def _drain(self) -> None:
        while self._again:
            self._again = False
            await self.flush()

    async def flush(self) -> int:
        """Send every due row, and rows that become due meanwhile; returns how many were sent. Safe to run in
        several processes at once (rows are leased)."""
        if not self.deps.team_id:
            return 0  # our team is not known yet (Slack unreachable at start): rows wait for it
        async with self._lock:
            return await self._pool()

    async def _pool(self) -> int:
        sent = 0
        inflight: set[asyncio.Task] = set()
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._wake.clear()
                room = self.CONCURRENCY - len(inflight)
                try:
                    rows = await self._claim(room) if room > 0 else []
                except Exception as exc:
                    if not inflight:
                        raise  # the database is away: the caller (a tick, a kick) tries again later
                    log.warning("outbox: rows not claimed (%s); finishing the sends in flight", type(exc).__name__)
                    rows = []
                for row in rows:
                    self._renewal.hold(row.id)
                    inflight.add(loop.create_task(self._send_held(row), name="outbox.send"))
                if rows:
                    continue  # there may be more due than fitted
                if not inflight:
                    return sent
                woken = loop.create_task(self._wake.wait())
                done, _ = await asyncio.wait({*inflight, woken}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                for task in done - {woken}:
                    inflight.discard(task)
                    sent += task.result()
        finally:
            for task in inflight:  # only when the pool itself is cancelled (shutdown): their leases lapse
                task.cancel()

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        return await store.claim_due(
            self.deps.db,
            team_id=self.deps.team_id,
            now=self.deps.clock(),
            limit=limit,
            holder=str(me()),
            exclude=self._renewal.held,
        )

    async def _renew(self, row_ids: list[int]) -> None:
        await store.extend(self.deps.db, row_ids=row_ids, now=self.deps.clock(), holder=str(me()))

    async def _send_held(self, row: OutboxMessage) -> int:
        try:
            return await self._send(row)
        except Exception as exc:  # noqa: BLE001 - its outcome was not recorded (the database failed): the lease
            log.warning("outbox %s not recorded: %s", row.id, type(exc).__name__)  # runs out, and it is retried
            return 0
        finally:
            self._renewal.drop(row.id)

    async def _send(self, row: OutboxMessage) -> int:
        client = self.deps.client
        posting = False  # past this point a failure may hide a post that did land (timeout, lost answer, 5xx)
        try:
            channel = row.target
            if row.kind == "update":  # rewrites a post of ours (privacy erase): idempotent, nothing to look up
                await client.chat_update(channel=channel, **row.payload)
                await store.mark_sent(self.deps.db, row_id=row.id, channel=channel, ts=row.payload.get("ts"))
                return 1
            if row.kind == "dm":
                opened = await client.conversations_open(users=row.target)
                channel = opened["channel"]["id"]
            if (row.last_error or "").startswith(UNCERTAIN) and (found := await self._find_sent(channel, row)):
                await store.mark_sent(self.deps.db, row_id=row.id, channel=channel, ts=found)
                return 0
            if (step := self.steps.get(row.kind)) is not None:
                result = await step.run(row)
            else:
                posting = True
                result = await client.chat_postMessage(channel=channel, **row.payload)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in PERMANENT_ERRORS or row.attempts >= MAX_ATTEMPTS:
                log.warning("outbox %s failed permanently: %s", row.id, error)
                await self._failed(row, error)
            else:
                error = UNCERTAIN + error if posting and exc.response.status_code >= 500 else error
                await store.mark_retry(
                    self.deps.db, row_id=row.id, error=error, at=self.deps.clock() + backoff(row.attempts)
                )
            return 0
        except Exception as exc:  # noqa: BLE001 - connection errors, timeouts: try again later
            log.warning("outbox %s will be retried: %s", row.id, type(exc).__name__)
            error = (UNCERTAIN if posting else "") + type(exc).__name__
            if row.attempts >= MAX_ATTEMPTS:
                await self._failed(row, error)
            else:
                await store.mark_retry(
                    self.deps.db, row_id=row.id, error=error, at=self.deps.clock() + backoff(row.attempts)
                )
            return 0
        await store.mark_sent(self.deps.db, row_id=row.id, channel=result.get("channel"), ts=result.get("ts"))
        return 1

    async def _failed(self, row: OutboxMessage, error: str) -> None:
        if (step := self.steps.get(row.kind)) is not None:
            await step.failed(row, error)
        await store.mark_failed(self.deps.db, row_id=row.id, error=error)

    async def _find_sent(self, channel: str, row: OutboxMessage) -> str | None:
        """The ts of our earlier post of this row when it did land (same text, by us, since the row was queued)."""
        since = row.created_at.timestamp() - 60
        page = await self.deps.client.conversations_history(channel=channel, oldest=f"{since:.6f}", limit=200)
        for message in page.get("messages") or []:
            ours = bool(message.get("bot_id")) or message.get("user") == self.deps.bot_user_id
            if ours and message.get("text") == row.payload.get("text"):
                return message.get("ts")
        return None
