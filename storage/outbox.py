"""The outbox: messages that must be sent exactly once per key, claimed row by row by whichever process is free."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import OutboxMessage
from storage.sql import claimed
from storage.types import utcnow

# Short, because the sender renews it while a row is in hand (bot/slack/outbox.py): after a crash on another
# host the row is taken again soon; on the same host the restarted process takes it at once (bot/slack/leases.py).
LEASE = timedelta(seconds=15)
# last_error prefix of a row whose previous post may have landed: the sender checks history before posting again.
UNCERTAIN = "uncertain:"
# A new row is due at once, whatever the clock of the process that queued it: its first attempt time is
# this floor, so only the sender's clock (deps.clock) ever decides when a row is due.
DUE_AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)
# "dm": target is a user id; "post": target is a channel id; "invite": target is a channel id and the payload
# says whom to put in it (the sender hands such rows to the step registered for their kind); "update": a
# chat.update of one of our posts in channel `target` (the payload carries its ts; the privacy erase).
KINDS = ("dm", "post", "invite", "update")


async def enqueue(
    session: AsyncSession,
    *,
    team_id: str,
    key: str,
    kind: str,
    target: str,
    payload: dict[str, Any],
    now: datetime | None = None,
) -> bool:
    """Queue inside the caller's transaction. False when this key was queued before (nothing is added).

    The row is due at once; `now` (the caller's clock, deps.clock()) only stamps when it was queued.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    now = now or utcnow()
    return await claimed(
        session,
        OutboxMessage,
        team_id=team_id,
        key=key[:200],
        kind=kind,
        target=target,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=DUE_AT_ONCE,
        created_at=now,
    )


async def claim_due(
    db: Database,
    *,
    team_id: str,
    limit: int = 20,
    now: datetime | None = None,
    holder: str | None = None,
    exclude: Collection[int] = (),
) -> list[OutboxMessage]:
    """Lease due rows for `holder`; a row whose lease ran out (its sender crashed mid-send) is due again, marked
    uncertain: its post may have landed. `exclude`: rows the caller is sending now, whatever their lease says
    (a clock moved forward must not make a sender take its own row a second time)."""
    now = now or utcnow()
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.locked_until < now),
    )
    async with db.write() as session:
        ids = (
            await session.scalars(
                select(OutboxMessage.id)
                # status IN (…) keeps the search inside ix_outbox_due: sent rows, the bulk of the table, are
                # never read (with `due` alone SQLite scans every row the team ever sent).
                .where(OutboxMessage.team_id == team_id, OutboxMessage.status.in_(("pending", "sending")), due)
                .where(OutboxMessage.id.not_in(list(exclude)) if exclude else true())
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
        ).all()
        if not ids:
            return []
        # One statement leases the batch; RETURNING gives exactly the rows this process won (`due` is
        # re-checked, so a row another replica leased in between is not taken twice).
        leased = await session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), due)
            .values(
                status="sending",
                locked_until=now + LEASE,
                holder=holder,
                attempts=OutboxMessage.attempts + 1,
                last_error=case(
                    (OutboxMessage.status == "sending", literal(UNCERTAIN + "lease")), else_=OutboxMessage.last_error
                ),
            )
            .returning(OutboxMessage),
            execution_options={"synchronize_session": False},
        )
        return sorted(leased.all(), key=lambda row: row.id)


async def extend(db: Database, *, row_ids: list[int], now: datetime, holder: str | None = None) -> None:
    """Renew the leases of rows still being sent by `holder`."""
    async with db.write() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "sending", OutboxMessage.holder == holder)
            .values(locked_until=now + LEASE)
        )


async def mark_sent(db: Database, *, row_id: int, channel: str | None, ts: str | None) -> None:
    async with db.write() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status="sent", channel=channel, ts=ts, sent_at=utcnow(), locked_until=None, last_error=None)
        )


async def mark_retry(db: Database, *, row_id: int, error: str, at: datetime) -> None:
    async with db.write() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status="pending", next_attempt_at=at, locked_until=None, last_error=error[:200])
        )


async def mark_failed(db: Database, *, row_id: int, error: str) -> None:
    async with db.write() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(status="failed", locked_until=None, last_error=error[:200])
        )


async def by_key(db: Database, *, team_id: str, key: str) -> OutboxMessage | None:
    async with db.read() as session:
        return await session.scalar(
            select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.key == key)
        )


async def pending_count(db: Database, *, team_id: str) -> int:
    async with db.read() as session:
        count = await session.scalar(
            select(func.count()).where(
                OutboxMessage.team_id == team_id, OutboxMessage.status.in_(("pending", "sending"))
            )
        )
        return int(count or 0)


async def backlog(db: Database, *, team_id: str) -> tuple[int, datetime | None]:
    """How many messages wait to be sent, and when the oldest of them was queued (None when none waits)."""
    async with db.read() as session:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.team_id == team_id, OutboxMessage.status.in_(("pending", "sending"))
                )
            )
        ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count or 0), oldest


async def queued_to(session: AsyncSession, *, team_id: str, target: str, key_prefixes: tuple[str, ...]) -> bool:
    """Whether a message keyed with one of these prefixes was ever queued for this target (sent or not)."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.target == target,
            or_(*(OutboxMessage.key.startswith(prefix, autoescape=True) for prefix in key_prefixes)),
        )
        .limit(1)
    )
    return found is not None


async def unfinished(session: AsyncSession, *, team_id: str, key_prefix: str) -> bool:
    """Whether a row keyed with this prefix is still waiting to be sent or being sent."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.key.startswith(key_prefix, autoescape=True),
        )
        .limit(1)
    )
    return found is not None
