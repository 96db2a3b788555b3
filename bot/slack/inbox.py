"""Ack first, work after: durably, and never at the cost of the next ack.

The **front** (bolt answering Slack's HTTP requests or Socket Mode envelopes, bot/slack/middleware.py):

* events are stored here, group-committed with the other requests of the moment, then acked empty;
* a slash command that opens no form is answered in its ack while the server is quiet; while it is busy
  (another request in flight, or work waiting) it is stored and acked empty, answered through response_url
  (bot/slack/commands.py);
* buttons, form submissions and menus stay inline: Slack wants their answer in the ack.

The **worker** (a task in the same process, one per replica) leases stored rows, commands first, runs each
through a second bolt app that finishes the work before it returns, and deletes the row when done. It yields
to the front: a row starts when no request is in flight and none arrived in the last QUIET seconds, or after
MAX_YIELD since the last start (a floor of progress under saturation), or at once when it has waited
MAX_DEFER already (then the work shares the loop equally; acks still come far inside Slack's 3 seconds).

If the database cannot take a row within PUT_BUDGET the request is acked anyway; should the write then fail,
the request is worked on in memory instead, as without an inbox, so nothing is lost either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.context import Deps
from bot.slack.leases import Renewal, me
from storage import inbox as store
from storage import seen_events
from storage.models import InboxItem
from storage.types import utcnow

log = logging.getLogger(__name__)

FRONT, WORKER = "front", "worker"
STAGE_KEY = "yakuba_stage"


class Inbox:
    QUIET = 0.005  # seconds without a request before the worker starts a row
    MAX_YIELD = 0.5  # under a saturating burst the worker still starts a row this often
    MAX_DEFER = 10.0  # a row that has waited this long no longer yields
    PUT_BUDGET = 1.5  # the longest an ack waits for its row to be stored
    POLL = 1.0  # rows stored by other replicas are found within this
    CONCURRENCY = 4  # rows worked on at once (their Slack calls overlap)

    def __init__(self, deps: Deps, bolt: AsyncApp) -> None:
        self.deps = deps
        self.bolt = bolt  # the worker's bolt app: the same handlers, run to the end before it returns
        self._inflight = 0
        self._last_front = 0.0
        self._last_start = 0.0
        self._batch: list[tuple[dict[str, Any], asyncio.Future]] = []
        self._storing = 0  # rows handed to store() and not yet committed (or given up)
        self._writer = store.Writer(deps.db)
        self._renewal = Renewal(self._renew, store.LEASE.total_seconds() / 3)
        self._flusher: asyncio.Task | None = None
        self._worker: asyncio.Task | None = None
        self._stopping = False
        self._holding = False
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    # ------------------------------------------------------------------ front
    @property
    def running(self) -> bool:
        """Requests are stored only while a worker runs here (tools that never start one work inline)."""
        return self._worker is not None and not self._worker.done() and not self._stopping

    @property
    def holding(self) -> bool:
        """Slack was unreachable at start: requests are stored under no team until `adopt()`."""
        return self._holding

    def hold(self) -> None:
        self._holding = True

    async def adopt(self) -> None:
        """Our team is known: rows stored while holding get it (the worker, started next, claims by team).

        Rows an earlier run left behind (a crash, a restart) make the inbox busy until the worker's first look
        at them, so `settled()` waits for them; with none, a command right after start is still answered in its
        ack.
        """
        if await store.pending_count(self.deps.db, team_id=self.deps.team_id):
            self._idle.clear()
        if not self._holding:
            return
        while self._flusher is not None and not self._flusher.done():
            # Stores already in flight carry the empty team; let them land first.
            await asyncio.wait({self._flusher})
        adopted = await store.adopt(self.deps.db, team_id=self.deps.team_id)
        self._holding = False
        if adopted:
            log.info("inbox: %d requests stored while Slack was unreachable are worked off now", adopted)

    def entering(self) -> None:
        self._inflight += 1
        self._last_front = asyncio.get_running_loop().time()

    def leaving(self) -> None:
        self._inflight -= 1
        self._last_front = asyncio.get_running_loop().time()

    def busy(self) -> bool:
        """Another request is being answered, or work is waiting: a command should not be answered inline."""
        return self._inflight > 1 or not self._idle.is_set()

    async def store(self, kind: str, key: str, request: AsyncBoltRequest) -> None:
        """Keep this request for the worker; returns once it is stored, or after PUT_BUDGET (see module doc)."""
        body, content_type = request.raw_body, (request.headers.get("content-type") or [""])[0]
        if not body:  # Socket Mode hands bolt a parsed envelope: keep it as JSON
            body, content_type = json.dumps(request.body, ensure_ascii=False), "application/json"
        item = store.row(
            team_id=self.deps.team_id,
            key=key or uuid.uuid4().hex,
            kind=kind,
            body=body,
            content_type=content_type or "application/json",
        )
        stored = asyncio.get_running_loop().create_future()
        self._batch.append((item, stored))
        self._storing += 1
        self._idle.clear()
        if self._flusher is None or self._flusher.done():
            self._flusher = self.deps.spawn(self._flush(), name="inbox.flush")
        try:
            await asyncio.wait_for(asyncio.shield(stored), self.PUT_BUDGET)
        except TimeoutError:
            log.warning("inbox: a %s is acked before it is stored (the database is slow)", kind)

    async def _flush(self) -> None:
        """One transaction for everything that arrived while the previous one was committing."""
        while self._batch:
            batch, self._batch = self._batch, []
            try:
                await self._writer.put_many([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - the requests are acked: work on them in memory instead
                log.warning("inbox: %d requests not stored (%s); worked on in memory", len(batch), type(exc).__name__)
                for item, stored in batch:
                    self.deps.spawn(
                        self._work(item["kind"], item["key"], item["body"], item["content_type"]), name="inbox.memory"
                    )
                    stored.done() or stored.set_result(False)
                continue
            finally:
                self._storing -= len(batch)
            for _, stored in batch:
                stored.done() or stored.set_result(True)
            self._wake.set()

    # ----------------------------------------------------------------- worker
    def start(self) -> None:
        if self.running:
            return
        self._stopping = False
        self._wake.set()  # rows left by an earlier run (a crash, a restart) are due now
        self._worker = asyncio.get_running_loop().create_task(self._run(), name="inbox.worker")
        self._worker.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task) -> None:
        """A worker that dies unexpectedly leaves the front working inline (`running` is False): say so."""
        self._idle.set()  # no one waits for rows this worker will not take
        if not task.cancelled() and task.exception() is not None:
            why = type(task.exception()).__name__
            log.error("inbox: the worker stopped (%s); requests are worked on as they come", why)

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the rows in hand, then stop; rows not started stay stored for the next start."""
        if self._worker is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._worker, timeout)
        self._worker = None
        with contextlib.suppress(Exception):
            await self._writer.close()

    @property
    def idle(self) -> bool:
        """Nothing stored here waits for the worker."""
        return self._idle.is_set()

    async def settled(self, timeout: float) -> bool:
        """Wait until everything stored here has been worked on (the console, the demo and tests use this)."""
        if not self.running:
            return True  # no worker here (a tool, a stopped or dead worker): nothing will change
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        return self._idle.is_set()

    async def _run(self) -> None:
        gate = asyncio.Semaphore(self.CONCURRENCY)
        while not self._stopping:
            self._wake.clear()
            try:
                rows = await store.claim(
                    self.deps.db, team_id=self.deps.team_id, limit=2 * self.CONCURRENCY, holder=str(me())
                )
            except Exception as exc:  # noqa: BLE001 - the database is away: rows wait for it
                log.warning("inbox: rows not read (%s); trying again", type(exc).__name__)
                await asyncio.sleep(self.POLL)
                continue
            if not rows:
                if not self._storing and not self._wake.is_set():
                    self._idle.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.POLL)
                continue
            self._idle.clear()
            for row in rows:
                self._renewal.hold(row.id)
            try:
                await asyncio.gather(*(self._take(row, gate) for row in rows))
            finally:
                for row in rows:
                    self._renewal.drop(row.id)
            try:
                await store.done(self.deps.db, [row.id for row in rows])
            except Exception as exc:  # noqa: BLE001 - they run again after their lease; their work is keyed
                log.warning("inbox: %d done rows not deleted (%s)", len(rows), type(exc).__name__)

    async def _renew(self, ids: list[int]) -> None:
        await store.extend(self.deps.db, ids=ids, holder=str(me()))

    async def _take(self, row: InboxItem, gate: asyncio.Semaphore) -> None:
        async with gate:
            if store.abandoned(row):
                log.error("inbox: %s row %s dropped after %d attempts", row.kind, row.id, row.attempts - 1)
                return
            await self._yield_to_front(row)
            await self._work(row.kind, row.key, row.body, row.content_type)

    async def _yield_to_front(self, row: InboxItem) -> None:
        loop = asyncio.get_running_loop()
        while self._inflight or loop.time() - self._last_front < self.QUIET:
            if loop.time() - self._last_start >= self.MAX_YIELD or self._stopping:
                break
            if (utcnow() - row.received_at).total_seconds() >= self.MAX_DEFER:
                break
            await asyncio.sleep(self.QUIET)
        self._last_start = loop.time()

    async def _work(self, kind: str, key: str, body: str, content_type: str) -> None:
        """One request through the worker's bolt app, which returns when the listener's work is done."""
        try:
            if kind == "command" and not await seen_events.claim(
                self.deps.db, team_id=self.deps.team_id, event_id=f"cmd:{key}"[:64], event_type="command"
            ):
                return  # answered already (a crash came between the answer and the row's delete)
            request = AsyncBoltRequest(body=body, headers={"content-type": content_type})
            response = await self.bolt.async_dispatch(request)
            if response.status >= 500:
                log.warning("inbox: a %s was answered %s by its listener", kind, response.status)
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the worker
            log.error("inbox: a %s failed: %s", kind, type(exc).__name__)
