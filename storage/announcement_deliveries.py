"""Delivery rows of announcements: leased by whichever process is free, renewed while sent, recorded in batches."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Announcement, AnnouncementDelivery
from storage.types import utcnow

# Short, because the worker renews it while it sends: after a crash the rows are taken again soon.
LEASE = timedelta(seconds=15)
Delivery = AnnouncementDelivery


def _due(now: datetime):
    return or_(
        and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
        and_(Delivery.status == "sending", Delivery.locked_until < now),
    )


def _running(team_id: str):
    return Delivery.announcement_id.in_(
        select(Announcement.id).where(Announcement.team_id == team_id, Announcement.status == "sending")
    )


async def claim_due(
    db: Database, *, team_id: str, limit: int, now: datetime | None = None, holder: str | None = None
) -> list[Delivery]:
    """Lease due rows of running announcements for `holder`. A row whose lease ran out was maybe sent: mark it
    uncertain."""
    now = now or utcnow()
    out: list[Delivery] = []
    if limit < 1:
        return out
    async with db.write() as session:
        ids = (
            await session.scalars(
                select(Delivery.id)
                .where(Delivery.team_id == team_id, _running(team_id), _due(now))
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
            )
        ).all()
        if not ids:
            return out
        # One statement for the batch; the lease end (to the microsecond) tells our rows from any other's.
        until = now + LEASE
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), _due(now))
            .values(
                status="sending",
                locked_until=until,
                holder=holder,
                attempts=Delivery.attempts + 1,
                uncertain=or_(Delivery.uncertain, Delivery.status == "sending"),
            )
            .execution_options(synchronize_session=False)
        )
        rows = await session.scalars(
            select(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == "sending", Delivery.locked_until == until)
            .order_by(Delivery.id)
            .execution_options(populate_existing=True)
        )
        out.extend(rows)
    return out


async def extend(db: Database, *, row_ids: list[int], now: datetime, holder: str | None = None) -> None:
    """Renew the leases of rows still being sent by `holder`."""
    async with db.write() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(row_ids), Delivery.status == "sending", Delivery.holder == holder)
            .values(locked_until=now + LEASE)
        )


async def next_due(db: Database, *, team_id: str) -> datetime | None:
    """When the earliest open row of a running announcement becomes due (a retry time or a lease end)."""
    async with db.read() as session:
        pending = await session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.team_id == team_id, _running(team_id), Delivery.status == "pending"
            )
        )
        leased = await session.scalar(
            select(func.min(Delivery.locked_until)).where(
                Delivery.team_id == team_id, _running(team_id), Delivery.status == "sending"
            )
        )
    found = [t for t in (pending, leased) if t is not None]
    return min(found) if found else None


def sent(channel: str | None, ts: str | None) -> dict[str, Any]:
    return {
        "status": "sent",
        "channel": channel,
        "ts": ts,
        "sent_at": utcnow(),
        "locked_until": None,
        "last_error": None,
    }


def retry(error: str, at: datetime, *, uncertain: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": "pending",
        "next_attempt_at": at,
        "locked_until": None,
        "last_error": error[:200],
    }
    if uncertain:
        values["uncertain"] = True
    return values


def failed(error: str) -> dict[str, Any]:
    return {"status": "failed", "locked_until": None, "last_error": error[:200]}


async def record(db: Database, results: list[tuple[int, dict[str, Any]]]) -> None:
    """Outcomes of sends, many per transaction; only rows still leased (status sending) change.

    One executemany per shape of outcome (sent, retry, failed): a broadcast at 50 posts/s records about as
    many rows a second, and a statement per row cost more CPU than the post itself.
    """
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in results:
        shapes.setdefault(tuple(sorted(values)), []).append(
            {"row_id": row_id, **{f"v_{k}": v for k, v in values.items()}}
        )
    table = Delivery.__table__
    async with db.write_connection() as conn:
        for keys, params in shapes.items():
            statement = (
                table.update()
                .where(table.c.id == bindparam("row_id"), table.c.status == "sending")
                .values({key: bindparam(f"v_{key}") for key in keys})
            )
            await conn.execute(statement, params)


async def progress_in(session: AsyncSession, *, announcement_id: int) -> tuple[Counter, list[tuple[str, str]]]:
    """Counts by status and the failed targets with their reasons (for the report)."""
    rows = (
        await session.execute(
            select(Delivery.status, Delivery.target, Delivery.last_error)
            .where(Delivery.announcement_id == announcement_id)
            .order_by(Delivery.id)
        )
    ).all()
    counts = Counter(status for status, _, _ in rows)
    failed = [(target, error or "?") for status, target, error in rows if status == "failed"]
    return counts, failed


async def deliveries(db: Database, *, announcement_id: int) -> list[Delivery]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.announcement_id == announcement_id).order_by(Delivery.id)
        )
        return list(rows)
