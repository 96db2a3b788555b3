"""The announcement worker: leases delivery rows, sends them paced and concurrently, each target once.

Exactly once: a row with a ts is never sent again. A row whose send may have reached Slack without us
learning the answer (the process died mid-call, the connection broke, a 5xx) is marked uncertain; before
it is sent again the channel's history is searched for the message's metadata (our delivery id).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks.announcements import METADATA_TYPE, announcement_message, report_message
from bot.slack.client import PERMANENT_ERRORS, open_session
from bot.slack.context import Deps
from bot.slack.leases import me
from bot.slack.pacer import Pacer
from storage import announcement_deliveries as deliveries
from storage import announcements as store
from storage import outbox, send_rates
from storage.models import AnnouncementDelivery

log = logging.getLogger(__name__)


GONE = frozenset({"channel_not_found", "is_archived", "account_inactive", "user_not_found", "user_disabled"})
MAX_ATTEMPTS = 8
BATCH = 50
CONCURRENCY = 64
HEARTBEAT = 5.0
# Outcomes wait this long for company before they are stored: at 50 posts/s a transaction per post cost more
# CPU than the post itself. After a crash, at most this much of sending is looked up in history again.
FLUSH_DELAY = 0.1


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 * 2 ** max(0, attempts - 1)))


class Announcer:
    def __init__(self, deps: Deps, *, per_minute: int | None = None) -> None:
        self.deps = deps
        self.pacer = Pacer(per_minute or deps.settings.yakuba_announce_per_minute, clock=deps.ticks)
        # The one client's session, token and base URL, but no built-in retries: a 429 must reach the pacer
        # (slack_sdk's handler would sleep Retry-After plus jitter inside the call) and a blind re-send after
        # a broken connection could post twice.
        self.client = copy.copy(deps.client)
        self.client.retry_handlers = []
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._held: set[int] = set()
        self._payloads: dict[int, dict[str, Any] | None] = {}
        # Our writes take turns in-process: SQLite's busy handler would otherwise make 64 concurrent
        # BEGIN IMMEDIATEs sleep in growing steps (PostgreSQL does not mind either way).
        self._db_lock = asyncio.Lock()
        self._results: list[tuple[int, dict[str, Any]]] = []
        self._stored: asyncio.Future | None = None  # resolved when the results now gathering are stored

    def kick(self) -> None:
        """Send whatever is due; a no-op when the worker already runs (it is told to look again)."""
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = self.deps.spawn(self.run(), name="announcer")

    async def run(self) -> None:
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat())
        # One keep-alive session while the worker runs (the client otherwise opens one per call).
        self.client.session = open_session(self.client)
        try:
            # Start at the rate learned by the last broadcast (this replica's or another's) and hand on ours.
            self.pacer.start_from(await send_rates.remembered(self.deps.db, team_id=self.deps.team_id))
            await self._loop()
            await self._remember_rate()
        finally:
            heartbeat.cancel()
            session, self.client.session = self.client.session, None
            await session.close()

    async def _loop(self) -> None:
        deps, inflight = self.deps, set()
        while True:
            self._wake.clear()
            room = CONCURRENCY - len(inflight)
            rows: list[AnnouncementDelivery] = []
            if room > 0:
                reserved = await self.pacer.reserve(min(room, BATCH))
                rows = await self._write(
                    deliveries.claim_due, team_id=deps.team_id, limit=reserved, now=deps.clock(), holder=str(me())
                )
                await self.pacer.release(reserved - len(rows))
            for row in rows:
                self._held.add(row.id)
                inflight.add(asyncio.get_running_loop().create_task(self._deliver(row)))
            if rows:
                continue
            if inflight:
                _, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            await self._finish()
            due = await deliveries.next_due(deps.db, team_id=deps.team_id)
            if due is None and not self._wake.is_set():
                return
            wait = 0.0 if due is None else max(0.0, (due - deps.clock()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(wait, 60.0) + 0.01)

    async def _remember_rate(self) -> None:
        learned = self.pacer.rate
        if learned.answers:
            await self._write(send_rates.remember, team_id=self.deps.team_id, per_second=learned.remembered)

    async def _heartbeat(self) -> None:
        """Keep the lease of rows in flight, so no process (this one included) takes them while we send."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            if self._held:
                await self._write(deliveries.extend, row_ids=list(self._held), now=self.deps.clock(), holder=str(me()))

    async def _write(self, fn, /, **kwargs):
        async with self._db_lock:
            return await fn(self.deps.db, **kwargs)

    async def _save(self, row: AnnouncementDelivery, values: dict[str, Any]) -> None:
        """Record an outcome, together with those that arrive within FLUSH_DELAY (one transaction for all).

        Returns once it is stored. A crash before then leaves the row leased: it is taken again as uncertain and
        its target's history is searched before any second post, so waiting costs no exactly-once.
        """
        self._results.append((row.id, values))
        if values.get("status") in ("sent", "failed"):
            self.deps.metrics.deliveries.labels(outcome=values["status"]).inc()
        if self._stored is None:
            self._stored = asyncio.get_running_loop().create_future()
            self.deps.spawn(self._flush(self._stored), name="announcer-flush")
        await asyncio.shield(self._stored)

    async def _flush(self, stored: asyncio.Future) -> None:
        try:
            await asyncio.sleep(FLUSH_DELAY)
            async with self._db_lock:
                batch, self._results, self._stored = self._results, [], None
                try:
                    await deliveries.record(self.deps.db, batch)
                except Exception as exc:  # noqa: BLE001 - every waiter sees the failure, as when each wrote alone
                    stored.set_exception(exc)
                else:
                    stored.set_result(None)
        finally:
            if not stored.done():  # cancelled (shutdown): the waiters are told rather than left waiting
                stored.cancel()
                if self._stored is stored:
                    self._stored = None

    async def _payload(self, announcement_id: int) -> dict[str, Any] | None:
        if announcement_id not in self._payloads:
            found = await store.get(self.deps.db, team_id=self.deps.team_id, announcement_id=announcement_id)
            self._payloads[announcement_id] = (
                None
                if found is None
                else announcement_message(self.deps.texts, found.text, allow_mentions=found.allow_mentions)
            )
        return self._payloads[announcement_id]

    async def _deliver(self, row: AnnouncementDelivery) -> None:
        posted = 0
        try:
            posted = await self._attempt(row)
        except Exception as exc:  # noqa: BLE001 - a broken connection or timeout: the post may have landed
            posted = 1
            log.warning("announcement delivery %s uncertain: %s", row.id, type(exc).__name__)
            await self._retry(row, type(exc).__name__, uncertain=True)
        finally:
            self._held.discard(row.id)
            await self.pacer.release(1, posted=posted)

    async def _attempt(self, row: AnnouncementDelivery) -> int:
        payload = await self._payload(row.announcement_id)
        if payload is None:
            await self._save(row, deliveries.failed("announcement_missing"))
            return 0
        if row.uncertain:
            try:
                found = await self._find_sent(row)
            except SlackApiError as exc:
                error = str(exc.response.get("error") or exc.response.status_code)
                if error in GONE:
                    await self._save(row, deliveries.failed(error))
                    return 0
                if error != "not_in_channel":  # not a member: an earlier post cannot have landed
                    await self._retry(row, f"unverified:{error}", uncertain=True)
                    return 0
                found = None
            if found is not None:
                await self._save(row, deliveries.sent(found[0], found[1]))
                return 0
        metadata = {
            "event_type": METADATA_TYPE,
            "event_payload": {"delivery": row.id, "announcement": row.announcement_id},
        }
        joined = False
        while True:
            try:
                async with self.pacer.channel(row.target):
                    sent_at = await self.pacer.turn()
                    result = await self.client.chat_postMessage(channel=row.target, metadata=metadata, **payload)
            except SlackApiError as exc:
                response = exc.response
                error = str(response.get("error") or response.status_code)
                if response.status_code == 429:
                    retry_after = float((response.headers or {}).get("Retry-After") or 1)
                    await self.pacer.limited(sent_at=sent_at, retry_after=retry_after)
                    at = self.deps.clock() + timedelta(seconds=retry_after)
                    await self._save(row, deliveries.retry("ratelimited", at))
                    return 0
                if error == "not_in_channel" and row.kind == "channel" and not joined:
                    joined = await self._join(row.target)
                    if joined:
                        continue
                if error in PERMANENT_ERRORS:
                    await self._save(row, deliveries.failed(error))
                    return 1
                await self._retry(row, error, uncertain=response.status_code >= 500)
                return 1
            self.pacer.accepted(sent_at=sent_at)
            await self._save(row, deliveries.sent(result.get("channel"), result.get("ts")))
            return 1

    async def _join(self, channel: str) -> bool:
        """Join a public channel once when we are not in it (private ones must invite us)."""
        try:
            await self.client.conversations_join(channel=channel)
        except SlackApiError as exc:
            log.info("could not join %s: %s", channel, exc.response.get("error"))
            return False
        return True

    async def _retry(self, row: AnnouncementDelivery, error: str, *, uncertain: bool) -> None:
        if row.attempts >= MAX_ATTEMPTS:
            await self._save(row, deliveries.failed(error))
        else:
            at = self.deps.clock() + backoff(row.attempts)
            await self._save(row, deliveries.retry(error, at, uncertain=uncertain))

    async def _find_sent(self, row: AnnouncementDelivery) -> tuple[str, str] | None:
        """Look for our message in the target's recent history: (channel, ts) when it did land."""
        channel = row.target
        if row.kind == "dm":
            channel = (await self.client.conversations_open(users=row.target))["channel"]["id"]
        announcement = await store.get(self.deps.db, team_id=self.deps.team_id, announcement_id=row.announcement_id)
        since = (announcement.started_at or announcement.created_at) - timedelta(minutes=1)
        cursor = None
        for _ in range(10):
            page = await self.client.conversations_history(
                channel=channel, oldest=f"{since.timestamp():.6f}", limit=200, include_all_metadata=True, cursor=cursor
            )
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                if (
                    meta.get("event_type") == METADATA_TYPE
                    and (meta.get("event_payload") or {}).get("delivery") == row.id
                ):
                    return channel, message["ts"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    async def _finish(self) -> None:
        """Announcements with nothing left to send: done, and one report DM to whoever sent them."""
        deps = self.deps
        async with self._db_lock, deps.db.write() as session:
            done = await store.finish(session, team_id=deps.team_id)
            for announcement in done:
                counts, failed = await deliveries.progress_in(session, announcement_id=announcement.id)
                seconds = _seconds(announcement.started_at, announcement.finished_at)
                payload = report_message(deps.texts, announcement, counts, failed, seconds=seconds)
                await outbox.enqueue(
                    session,
                    team_id=deps.team_id,
                    key=f"announcement-report:{announcement.id}",
                    kind="dm",
                    target=announcement.created_by,
                    payload=payload,
                )
                self._payloads.pop(announcement.id, None)
        if done:
            deps.outbox.kick()


def _seconds(start: datetime | None, end: datetime | None) -> float:
    return (end - start).total_seconds() if start and end else 0.0
