"""Disaster check-ins: the JMA feed's stored state, one post per (event, prefecture), members' statuses.

A check-in's post goes out through the outbox under `post_key(id)`, queued in the transaction that creates
the check-in, so a crash between the two is impossible and a second process finds the row and posts nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from storage import outbox
from storage.db import Database
from storage.models import DisasterCheckin, DisasterFeed, DisasterStatus
from storage.sql import claimed

STATUSES = ("safe", "responding", "need_help")


def post_key(checkin_id: int) -> str:
    return f"disaster:{checkin_id}"


def help_key(checkin_id: int, user_id: str, recipient: str) -> str:
    return f"disaster-help:{checkin_id}:{user_id}:{recipient}"


@dataclass(frozen=True)
class Tally:
    """What a post shows of its answers: counts only, and the version they were read at."""

    version: int
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# ------------------------------------------------------------------ the feed's state
async def feed_state(db: Database, *, team_id: str, url: str) -> dict[str, Any] | None:
    async with db.read() as session:
        return await session.scalar(
            select(DisasterFeed.state).where(DisasterFeed.team_id == team_id, DisasterFeed.url == url)
        )


async def save_feed_state(db: Database, *, team_id: str, url: str, state: dict[str, Any], now: datetime) -> None:
    async with db.write() as session:
        if not await claimed(session, DisasterFeed, team_id=team_id, url=url, state=state, updated_at=now):
            await session.execute(
                update(DisasterFeed)
                .where(DisasterFeed.team_id == team_id, DisasterFeed.url == url)
                .values(state=state, updated_at=now)
            )


# ------------------------------------------------------------------ check-ins
async def open_checkin(
    db: Database,
    *,
    team_id: str,
    event_id: str,
    pref_code: str,
    channel_id: str,
    kind: str,
    info: dict[str, Any],
    render: Callable[[DisasterCheckin], dict[str, Any]],
    now: datetime,
    drill: bool = False,
    created_by: str | None = None,
) -> DisasterCheckin | None:
    """Create the check-in and queue its post in one transaction; None when it exists (posted once only)."""
    async with db.write() as session:
        if not await claimed(
            session,
            DisasterCheckin,
            team_id=team_id,
            event_id=event_id,
            pref_code=pref_code,
            channel_id=channel_id,
            kind=kind,
            drill=drill,
            withdrawn=False,
            info=info,
            version=1,
            shown_version=1,
            created_by=created_by,
            created_at=now,
        ):
            return None
        row = await session.scalar(
            select(DisasterCheckin).where(
                DisasterCheckin.team_id == team_id,
                DisasterCheckin.event_id == event_id,
                DisasterCheckin.pref_code == pref_code,
            )
        )
        assert row is not None
        await outbox.enqueue(
            session, team_id=team_id, key=post_key(row.id), kind="post", target=channel_id, payload=render(row), now=now
        )
        return row


async def get(db: Database, *, checkin_id: int) -> DisasterCheckin | None:
    async with db.read() as session:
        return await session.get(DisasterCheckin, checkin_id)


async def of_event(db: Database, *, team_id: str, event_id: str) -> list[DisasterCheckin]:
    async with db.read() as session:
        rows = await session.scalars(
            select(DisasterCheckin)
            .where(DisasterCheckin.team_id == team_id, DisasterCheckin.event_id == event_id)
            .order_by(DisasterCheckin.pref_code)
        )
        return list(rows)


async def revise(db: Database, *, checkin_id: int, info: dict[str, Any]) -> bool:
    """A later report of the same event: what the post shows is replaced (the caller checked it is later)."""
    async with db.write() as session:
        result = await session.execute(
            update(DisasterCheckin)
            .where(DisasterCheckin.id == checkin_id, DisasterCheckin.withdrawn.is_(False))
            .values(info=info, version=DisasterCheckin.version + 1)
        )
        return result.rowcount == 1


async def withdraw(db: Database, *, team_id: str, event_id: str) -> list[int]:
    """JMA withdrew the event (取消): every post of it says so. Returns the check-ins that changed."""
    async with db.write() as session:
        ids = list(
            await session.scalars(
                select(DisasterCheckin.id).where(
                    DisasterCheckin.team_id == team_id,
                    DisasterCheckin.event_id == event_id,
                    DisasterCheckin.withdrawn.is_(False),
                )
            )
        )
        if ids:
            await session.execute(
                update(DisasterCheckin)
                .where(DisasterCheckin.id.in_(ids))
                .values(withdrawn=True, version=DisasterCheckin.version + 1)
            )
        return ids


async def record(
    db: Database, *, checkin_id: int, team_id: str, user_id: str, status: str, now: datetime
) -> DisasterCheckin | None:
    """The member's answer (the last press wins); None when the check-in is gone or withdrawn."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    async with db.write() as session:
        # Bumping the version first takes the check-in's row for this transaction: presses are serialised per
        # post, and the version a refresh reads is never older than the counts it reads with it.
        bumped = await session.execute(
            update(DisasterCheckin)
            .where(
                DisasterCheckin.id == checkin_id,
                DisasterCheckin.team_id == team_id,
                DisasterCheckin.withdrawn.is_(False),
            )
            .values(version=DisasterCheckin.version + 1)
        )
        if bumped.rowcount != 1:
            return None
        if not await claimed(
            session,
            DisasterStatus,
            team_id=team_id,
            checkin_id=checkin_id,
            user_id=user_id,
            status=status,
            help_sent=False,
            updated_at=now,
        ):
            await session.execute(
                update(DisasterStatus)
                .where(DisasterStatus.checkin_id == checkin_id, DisasterStatus.user_id == user_id)
                .values(status=status, updated_at=now)
            )
        return await session.get(DisasterCheckin, checkin_id)


async def ask_for_help(
    db: Database,
    *,
    checkin: DisasterCheckin,
    user_id: str,
    recipients: list[str],
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Tell each helper once per member and check-in (keyed DMs); returns how many DMs were queued now."""
    queued = 0
    async with db.write() as session:
        for recipient in recipients:
            queued += await outbox.enqueue(
                session,
                team_id=checkin.team_id,
                key=help_key(checkin.id, user_id, recipient),
                kind="dm",
                target=recipient,
                payload=payload,
                now=now,
            )
        await session.execute(
            update(DisasterStatus)
            .where(DisasterStatus.checkin_id == checkin.id, DisasterStatus.user_id == user_id)
            .values(help_sent=True)
        )
    return queued


async def tally(db: Database, *, checkin_id: int) -> Tally:
    async with db.read() as session:
        version = await session.scalar(select(DisasterCheckin.version).where(DisasterCheckin.id == checkin_id))
        rows = await session.execute(
            select(DisasterStatus.status, func.count())
            .where(DisasterStatus.checkin_id == checkin_id)
            .group_by(DisasterStatus.status)
        )
        counts = Counter({status: 0 for status in STATUSES})
        counts.update({status: int(count) for status, count in rows})
        return Tally(int(version or 0), dict(counts))


async def answers(db: Database, *, checkin_id: int) -> list[tuple[str, str]]:
    """(user_id, status) of everyone who answered, oldest answer first: for organisers and leads only."""
    async with db.read() as session:
        rows = await session.execute(
            select(DisasterStatus.user_id, DisasterStatus.status)
            .where(DisasterStatus.checkin_id == checkin_id)
            .order_by(DisasterStatus.updated_at, DisasterStatus.id)
        )
        return [(user_id, status) for user_id, status in rows]


async def mark_shown(db: Database, *, checkin_id: int, version: int) -> None:
    async with db.write() as session:
        await session.execute(
            update(DisasterCheckin)
            .where(DisasterCheckin.id == checkin_id, DisasterCheckin.shown_version < version)
            .values(shown_version=version)
        )


async def behind(db: Database, *, team_id: str, limit: int = 50) -> list[int]:
    """Check-ins whose post shows less than they know (an update missed or not possible yet)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(DisasterCheckin.id)
            .where(DisasterCheckin.team_id == team_id, DisasterCheckin.shown_version < DisasterCheckin.version)
            .order_by(DisasterCheckin.id)
            .limit(limit)
        )
        return list(rows)


# ------------------------------------------------------------------ privacy
async def collect(db: Database, *, team_id: str, user_id: str) -> list[dict[str, Any]]:
    """For /mydata export: the member's answers, with which check-in they answered."""
    async with db.read() as session:
        rows = await session.execute(
            select(DisasterStatus.status, DisasterStatus.updated_at, DisasterCheckin.pref_code, DisasterCheckin.kind)
            .join(DisasterCheckin, DisasterCheckin.id == DisasterStatus.checkin_id)
            .where(DisasterStatus.team_id == team_id, DisasterStatus.user_id == user_id)
            .order_by(DisasterStatus.updated_at)
        )
        return [
            {"status": status, "at": at.isoformat(), "prefecture": pref, "kind": kind}
            for status, at, pref, kind in rows
        ]


async def forget(db: Database, *, team_id: str, user_id: str) -> int:
    """Erase the member's answers (the posts' counts lose them at their next refresh)."""
    async with db.write() as session:
        checkins = list(
            await session.scalars(
                select(DisasterStatus.checkin_id).where(
                    DisasterStatus.team_id == team_id, DisasterStatus.user_id == user_id
                )
            )
        )
        if not checkins:
            return 0
        await session.execute(
            update(DisasterCheckin).where(DisasterCheckin.id.in_(checkins)).values(version=DisasterCheckin.version + 1)
        )
        result = await session.execute(
            delete(DisasterStatus).where(DisasterStatus.team_id == team_id, DisasterStatus.user_id == user_id)
        )
        return int(result.rowcount or 0)


async def purge(db: Database, *, team_id: str, before: datetime) -> int:
    """YAKUBA_CHECKIN_RETENTION_DAYS: answers older than `before` are removed (the posts keep their counts)."""
    async with db.write() as session:
        result = await session.execute(
            delete(DisasterStatus).where(DisasterStatus.team_id == team_id, DisasterStatus.updated_at < before)
        )
        return int(result.rowcount or 0)
