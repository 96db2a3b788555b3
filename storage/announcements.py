"""Announcements and their deliveries: drafted, decided once, fanned out one leased row per target."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.db import Database
from storage.models import Announcement, AnnouncementDelivery, Member
from storage.types import utcnow

DUPLICATE_WINDOW = timedelta(minutes=10)
OPEN = ("pending", "sending")
Delivery = AnnouncementDelivery


def _insert(session: AsyncSession):
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Delivery)


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


async def create_draft(
    db: Database,
    *,
    team_id: str,
    user_id: str,
    text: str,
    allow_mentions: bool,
    targets: dict[str, Any],
    total: int,
    send_at: datetime | None = None,
    origin_channel: str | None = None,
) -> Announcement:
    """A previewed, not yet decided announcement: nothing is sent until `confirm`."""
    row = Announcement(
        team_id=team_id,
        created_by=user_id,
        text=text,
        allow_mentions=allow_mentions,
        targets=targets,
        target_key=digest(targets),
        text_key=digest([text, allow_mentions]),
        status="draft",
        send_at=send_at,
        origin_channel=origin_channel,
        total=total,
        created_at=utcnow(),
    )
    async with db.write() as session:
        session.add(row)
    return row


async def get(db: Database, *, team_id: str, announcement_id: int) -> Announcement | None:
    async with db.read() as session:
        return await session.scalar(
            select(Announcement).where(Announcement.team_id == team_id, Announcement.id == announcement_id)
        )


async def recent_duplicate(db: Database, *, draft: Announcement, now: datetime) -> Announcement | None:
    """An announcement with the same text to the same targets decided within the last ten minutes."""
    async with db.read() as session:
        return await session.scalar(
            select(Announcement)
            .where(
                Announcement.team_id == draft.team_id,
                Announcement.id != draft.id,
                Announcement.text_key == draft.text_key,
                Announcement.target_key == draft.target_key,
                Announcement.status.in_(("scheduled", "sending", "done")),
                Announcement.confirmed_at >= now - DUPLICATE_WINDOW,
            )
            .limit(1)
        )


async def confirm(
    db: Database, *, draft: Announcement, by: str, recipients: list[tuple[str, str]], now: datetime
) -> str | None:
    """The send decision: draft → sending (or scheduled) and one delivery row per target, in one transaction.

    None when the draft was decided before (a double click, a retried request, another process).
    """
    status = "scheduled" if draft.send_at is not None and draft.send_at > now else "sending"
    async with db.write() as session:
        result = await session.execute(
            update(Announcement)
            .where(
                Announcement.id == draft.id,
                Announcement.team_id == draft.team_id,
                Announcement.status == "draft",
                Announcement.created_by == by,
            )
            .values(
                status=status, confirmed_at=now, total=len(recipients), started_at=now if status == "sending" else None
            )
        )
        if result.rowcount != 1:
            return None
        rows = [
            {
                "team_id": draft.team_id,
                "announcement_id": draft.id,
                "kind": kind,
                "target": target,
                "status": "pending",
                "attempts": 0,
                "uncertain": False,
                "next_attempt_at": now,
            }
            for kind, target in recipients
        ]
        for start in range(0, len(rows), 500):
            await session.execute(_insert(session).values(rows[start : start + 500]).on_conflict_do_nothing())
        audit.record(
            session,
            team_id=draft.team_id,
            actor=by,
            action="announcement.confirm",
            subject=str(draft.id),
            detail={"targets": draft.targets.get("kind"), "count": len(rows)},
        )
    return status


async def cancel(db: Database, *, team_id: str, announcement_id: int, by: str) -> int | None:
    """Stop an announcement: pending deliveries become cancelled. None when it was already over."""
    async with db.write() as session:
        result = await session.execute(
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                Announcement.team_id == team_id,
                Announcement.status.in_(("draft", "scheduled", "sending")),
            )
            .values(status="cancelled", cancelled_by=by, finished_at=utcnow())
        )
        if result.rowcount != 1:
            return None
        stopped = await session.execute(
            update(Delivery)
            .where(Delivery.announcement_id == announcement_id, Delivery.status == "pending")
            .values(status="cancelled", locked_until=None)
        )
        audit.record(session, team_id=team_id, actor=by, action="announcement.cancel", subject=str(announcement_id))
        return stopped.rowcount or 0


async def start_due(db: Database, *, team_id: str, slot: datetime) -> list[int]:
    """Scheduled announcements due at `slot` start sending (what the claimed job slot does)."""
    async with db.write() as session:
        ids = list(
            await session.scalars(
                select(Announcement.id).where(
                    Announcement.team_id == team_id, Announcement.status == "scheduled", Announcement.send_at <= slot
                )
            )
        )
        started = []
        for announcement_id in ids:
            result = await session.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id, Announcement.status == "scheduled")
                .values(status="sending", started_at=utcnow())
            )
            if result.rowcount == 1:
                started.append(announcement_id)
        return started


async def scheduled_slots(db: Database, *, team_id: str, start: datetime, end: datetime) -> list[datetime]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Announcement.send_at)
            .where(
                Announcement.team_id == team_id,
                Announcement.status != "draft",
                Announcement.send_at > start,
                Announcement.send_at <= end,
            )
            .distinct()
        )
        return sorted(rows)


async def finish(session: AsyncSession, *, team_id: str) -> list[Announcement]:
    """Running announcements with nothing left open become done (claimed once: the report goes once)."""
    open_rows = select(Delivery.id).where(Delivery.announcement_id == Announcement.id, Delivery.status.in_(OPEN))
    ids = list(
        await session.scalars(
            select(Announcement.id).where(
                Announcement.team_id == team_id, Announcement.status == "sending", ~open_rows.exists()
            )
        )
    )
    done = []
    for announcement_id in ids:
        result = await session.execute(
            update(Announcement)
            .where(Announcement.id == announcement_id, Announcement.status == "sending")
            .values(status="done", finished_at=utcnow())
        )
        if result.rowcount == 1:
            done.append(await session.get(Announcement, announcement_id))
    return done


async def progress(db: Database, *, announcement_ids: list[int]) -> dict[int, Counter]:
    out: dict[int, Counter] = {i: Counter() for i in announcement_ids}
    if not announcement_ids:
        return out
    async with db.read() as session:
        rows = await session.execute(
            select(Delivery.announcement_id, Delivery.status, func.count(Delivery.id))
            .where(Delivery.announcement_id.in_(announcement_ids))
            .group_by(Delivery.announcement_id, Delivery.status)
        )
        for announcement_id, status, count in rows:
            out[announcement_id][status] = count
    return out


async def recent(db: Database, *, team_id: str, limit: int = 10, created_by: str | None = None) -> list[Announcement]:
    async with db.read() as session:
        query = select(Announcement).where(Announcement.team_id == team_id, Announcement.status != "draft")
        if created_by:
            query = query.where(Announcement.created_by == created_by)
        return list(await session.scalars(query.order_by(Announcement.id.desc()).limit(limit)))


async def approved_members(db: Database, *, team_id: str) -> list[str]:
    """Everyone an announcement "to every member" reaches: approved and still in the workspace."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Member.user_id)
            .where(Member.team_id == team_id, Member.status == "approved", Member.left_at.is_(None))
            .order_by(Member.id)
        )
        return list(rows)
