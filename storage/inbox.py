"""The inbox: Slack requests stored before their ack, leased by whichever worker is free, deleted when done."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from storage.db import SQLITE_BUSY_TIMEOUT_MS, Database
from storage.models import InboxItem
from storage.types import utcnow

# A row whose worker died mid-way is worked on again after this (at once by its restarted process on the same
# host, bot/slack/leases.py); the work it starts is keyed (seen events, outbox keys), so a second run does not
# double anything. Short, because the worker renews it while a row is in hand.
LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 3


COLUMNS = ("team_id", "key", "kind", "priority", "body", "content_type", "received_at", "attempts")
_INSERT = "INSERT INTO inbox ({}) VALUES ({}) ON CONFLICT DO NOTHING"
SQLITE_INSERT = _INSERT.format(", ".join(COLUMNS), ", ".join("?" for _ in COLUMNS))
POSTGRES_INSERT = _INSERT.format(", ".join(COLUMNS), ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1)))


class Writer:
    """The front's inserts, one transaction per batch, as cheap as the drivers allow.

    Every ack waits for its batch. Through SQLAlchemy a batch costs about 2 ms of CPU and, on SQLite, three
    trips to aiosqlite's thread, each waiting for a turn of the busy event loop. So on SQLite the writer
    keeps a connection of its own in one thread of its own (one trip per batch); on PostgreSQL it holds
    one asyncpg connection. A connection that fails once is dropped; the next batch opens another.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Any = None  # SQLAlchemy AsyncConnection (PostgreSQL) or sqlite3.Connection
        self._driver: Any = None
        self._thread: ThreadPoolExecutor | None = None  # SQLite: the writer's own thread, made on first use

    async def put_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store a batch in one transaction; a key already queued is skipped (a Slack retry)."""
        if not rows:
            return
        if self.db.is_sqlite:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-writer")
            params = [tuple(_sqlite_value(row[c]) for c in COLUMNS) for row in rows]
            await asyncio.get_running_loop().run_in_executor(self._thread, self._sqlite, params)
            return
        if self._conn is None:
            self._conn = await self.db.engine.connect()
            self._driver = (await self._conn.get_raw_connection()).driver_connection
        params = [tuple(_naive(row[c]) for c in COLUMNS) for row in rows]
        try:
            async with self._driver.transaction():
                await self._driver.executemany(POSTGRES_INSERT, params)
        except BaseException:
            await self.close()
            raise

    def _sqlite(self, params: list[tuple]) -> None:
        """In the writer's thread."""
        if self._conn is None:
            self._conn = sqlite3.connect(
                self.db.engine.url.database or "", timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self._conn.execute("PRAGMA synchronous=NORMAL")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(SQLITE_INSERT, params)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    async def close(self) -> None:
        if self._thread is not None:
            thread, self._thread = self._thread, None
            if self._conn is not None:
                await asyncio.get_running_loop().run_in_executor(thread, self._conn.close)
                self._conn = None
            thread.shutdown(wait=False)
            return
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            try:
                await conn.invalidate()
            finally:
                await conn.close()


def _naive(value: Any) -> Any:
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


def _sqlite_value(value: Any) -> Any:
    # The text SQLAlchemy's SQLite DateTime stores and parses back.
    return _naive(value).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def row(*, team_id: str, key: str, kind: str, body: str, content_type: str, now: datetime | None = None) -> dict:
    return {
        "team_id": team_id,
        "key": key[:100],
        "kind": kind,
        "priority": 0 if kind == "command" else 1,
        "body": body,
        "content_type": content_type[:100],
        "received_at": now or utcnow(),
        "attempts": 0,
    }


def _due(now: datetime):
    return or_(InboxItem.locked_until.is_(None), InboxItem.locked_until < now)


async def claim(
    db: Database, *, team_id: str, limit: int, now: datetime | None = None, holder: str | None = None
) -> list[InboxItem]:
    """Lease the next rows for `holder`: commands before events, then oldest first."""
    now = now or utcnow()
    async with db.write() as session:
        ids = (
            await session.scalars(
                select(InboxItem.id)
                .where(InboxItem.team_id == team_id, _due(now))
                .order_by(InboxItem.priority, InboxItem.id)
                .limit(limit)
            )
        ).all()
        if not ids:
            return []
        leased = await session.scalars(
            update(InboxItem)
            .where(InboxItem.id.in_(ids), _due(now))
            .values(locked_until=now + LEASE, holder=holder, attempts=InboxItem.attempts + 1)
            .returning(InboxItem),
            execution_options={"synchronize_session": False},
        )
        return sorted(leased.all(), key=lambda item: (item.priority, item.id))


async def extend(db: Database, *, ids: Sequence[int], holder: str | None, now: datetime | None = None) -> None:
    """Renew the leases of rows `holder` still works on."""
    now = now or utcnow()
    async with db.write() as session:
        await session.execute(
            update(InboxItem)
            .where(InboxItem.id.in_(list(ids)), InboxItem.holder == holder)
            .values(locked_until=now + LEASE)
        )


async def done(db: Database, ids: Sequence[int]) -> None:
    if ids:
        async with db.write() as session:
            await session.execute(delete(InboxItem).where(InboxItem.id.in_(list(ids))))


async def pending_count(db: Database, *, team_id: str) -> int:
    """How many requests wait or are being worked on (as storage.outbox.pending_count counts messages)."""
    async with db.read() as session:
        count = await session.scalar(select(func.count()).where(InboxItem.team_id == team_id))
    return int(count or 0)


async def backlog(db: Database, *, team_id: str) -> tuple[int, datetime | None]:
    """How many requests wait, and when the oldest of them arrived (None when none waits)."""
    async with db.read() as session:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(InboxItem.received_at)).where(InboxItem.team_id == team_id)
            )
        ).one()
    return int(count or 0), _aware(oldest)


async def adopt(db: Database, *, team_id: str) -> int:
    """Give `team_id` to the rows stored before we knew our team (Slack was unreachable at start).

    A row whose key is queued for the team already (Slack re-sent it after we learnt the team) is the same
    request twice: the team's row stays, the other goes.
    """
    async with db.write() as session:
        queued = select(InboxItem.key).where(InboxItem.team_id == team_id).scalar_subquery()
        await session.execute(delete(InboxItem).where(InboxItem.team_id == "", InboxItem.key.in_(queued)))
        moved = await session.execute(update(InboxItem).where(InboxItem.team_id == "").values(team_id=team_id))
    return int(moved.rowcount or 0)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def abandoned(item: InboxItem) -> bool:
    """Leased MAX_ATTEMPTS times without being done: its work crashes the worker; it is dropped."""
    return item.attempts > MAX_ATTEMPTS
