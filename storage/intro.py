"""Introductions (繋がりづくり): opt-ins and preferences, rounds and their seats, the check-ins, the figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import IntroOptIn, IntroRound, IntroSeat, Member, OutboxMessage, Section, SectionMember
from storage.outbox import DUE_AT_ONCE
from storage.sql import claimed
from storage.types import utcnow

PREFERENCES = ("any", "same_pref", "other_region", "same_section")
CHECKINS = ("met", "not_yet", "pass")
# Outbox key prefixes of this feature: the introduction per group, the check-in per seat.
INTRO_KEY, CHECKIN_KEY = "intro", "intro-checkin"


async def optin(db: Database, *, team_id: str, user_id: str) -> IntroOptIn | None:
    async with db.read() as session:
        return await session.scalar(
            select(IntroOptIn).where(IntroOptIn.team_id == team_id, IntroOptIn.user_id == user_id)
        )


async def set_optin(
    db: Database, *, team_id: str, user_id: str, active: bool | None = None, preference: str | None = None
) -> IntroOptIn:
    """Create or update the member's opt-in; a preference alone leaves `active` as it was (off for a new row)."""
    if preference is not None and preference not in PREFERENCES:
        raise ValueError(f"unknown preference {preference!r}")
    now = utcnow()
    async with db.write() as session:
        await claimed(
            session,
            IntroOptIn,
            team_id=team_id,
            user_id=user_id,
            active=bool(active),
            preference=preference or "any",
            created_at=now,
            updated_at=now,
        )
        row = await session.scalar(
            select(IntroOptIn).where(IntroOptIn.team_id == team_id, IntroOptIn.user_id == user_id)
        )
        assert row is not None
        if active is not None:
            row.active = active
        if preference is not None:
            row.preference = preference
        row.updated_at = now
        return row


@dataclass(frozen=True)
class Eligible:
    member: Member
    preference: str
    sections: frozenset[str]


async def eligible(db: Database, *, team_id: str) -> list[Eligible]:
    """Opted-in, not paused, approved and still in the community (pending, rejected and left are not)."""
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Member, IntroOptIn.preference)
                .join(IntroOptIn, (IntroOptIn.team_id == Member.team_id) & (IntroOptIn.user_id == Member.user_id))
                .where(
                    Member.team_id == team_id,
                    IntroOptIn.active.is_(True),
                    Member.status == "approved",
                    Member.left_at.is_(None),
                )
                .order_by(Member.user_id)
            )
        ).all()
        names: dict[str, set[str]] = defaultdict(set)
        section_rows = await session.execute(
            select(SectionMember.user_id, Section.name)
            .join(Section, Section.id == SectionMember.section_id)
            .join(
                IntroOptIn,
                (IntroOptIn.team_id == SectionMember.team_id) & (IntroOptIn.user_id == SectionMember.user_id),
            )
            .where(SectionMember.team_id == team_id, Section.active.is_(True), IntroOptIn.active.is_(True))
        )
        for user_id, name in section_rows:
            names[user_id].add(name)
    return [Eligible(member, preference, frozenset(names.get(member.user_id, ()))) for member, preference in rows]


async def history(db: Database, *, team_id: str, before: datetime, rounds: int) -> list[list[tuple[str, ...]]]:
    """The groups of the last `rounds` rounds before `before`, newest round first."""
    async with db.read() as session:
        recent = list(
            await session.scalars(
                select(IntroRound.id)
                .where(IntroRound.team_id == team_id, IntroRound.slot < before)
                .order_by(IntroRound.slot.desc())
                .limit(rounds)
            )
        )
        if not recent:
            return []
        seats = await session.execute(
            select(IntroSeat.round_id, IntroSeat.group_no, IntroSeat.user_id).where(IntroSeat.round_id.in_(recent))
        )
        grouped: dict[int, dict[int, list[str]]] = {r: defaultdict(list) for r in recent}
        for round_id, group_no, user_id in seats:
            grouped[round_id][group_no].append(user_id)
    return [[tuple(sorted(users)) for _, users in sorted(grouped[r].items())] for r in recent]


async def round_at(session: AsyncSession, *, team_id: str, slot: datetime) -> IntroRound | None:
    return await session.scalar(select(IntroRound).where(IntroRound.team_id == team_id, IntroRound.slot == slot))


async def save_round(
    session: AsyncSession, *, team_id: str, slot: datetime, eligible: int, groups: list[tuple[str, ...]]
) -> IntroRound | None:
    """Record a round inside the caller's transaction; None when this slot already has one (nothing added)."""
    if not await claimed(
        session, IntroRound, team_id=team_id, slot=slot, eligible=eligible, groups=len(groups), created_at=utcnow()
    ):
        return None
    row = await round_at(session, team_id=team_id, slot=slot)
    assert row is not None
    seats = [
        {"team_id": team_id, "round_id": row.id, "group_no": no, "user_id": user_id}
        for no, group in enumerate(groups, start=1)
        for user_id in group
    ]
    if seats:  # one executemany: 10,000 ORM objects would cost more than the matching
        await session.execute(insert(IntroSeat), seats)
    return row


async def queue_messages(
    session: AsyncSession, *, team_id: str, now: datetime, messages: list[tuple[str, str, dict[str, Any]]]
) -> int:
    """Queue (key, target, payload) DMs in the outbox in one statement, inside the caller's transaction.

    The rows are what storage.outbox.enqueue writes (due at once, a key queued before is skipped); one
    statement for a whole round, because one INSERT per group takes seconds for thousands of groups."""
    if not messages:
        return 0
    keys = [key[:200] for key, _, _ in messages]
    known = 0
    for start in range(0, len(keys), 1000):  # an executemany reports no row count: count what was there before
        chunk = keys[start : start + 1000]
        known += await session.scalar(
            select(func.count()).where(OutboxMessage.team_id == team_id, OutboxMessage.key.in_(chunk))
        )
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_of(OutboxMessage).on_conflict_do_nothing()
    rows = [
        {
            "team_id": team_id,
            "key": key[:200],
            "kind": "dm",
            "target": target,
            "payload": payload,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": DUE_AT_ONCE,
            "created_at": now,
        }
        for key, target, payload in messages
    ]
    await session.execute(statement, rows)
    return len(rows) - known


async def seats_between(
    db: Database, *, team_id: str, start: datetime, end: datetime
) -> list[tuple[IntroRound, IntroSeat]]:
    """Seats of the rounds whose slot lies in (start, end]: who is asked how their introduction went."""
    async with db.read() as session:
        rows = await session.execute(
            select(IntroRound, IntroSeat)
            .join(IntroSeat, IntroSeat.round_id == IntroRound.id)
            .where(IntroRound.team_id == team_id, IntroRound.slot > start, IntroRound.slot <= end)
            .order_by(IntroRound.slot, IntroSeat.id)
        )
        return [(r, s) for r, s in rows]


async def record_checkin(db: Database, *, team_id: str, seat_id: int, user_id: str, answer: str) -> bool:
    """The seat's own member answers (a forged click on someone else's seat changes nothing)."""
    if answer not in CHECKINS:
        return False
    async with db.write() as session:
        result = await session.execute(
            update(IntroSeat)
            .where(IntroSeat.id == seat_id, IntroSeat.team_id == team_id, IntroSeat.user_id == user_id)
            .values(checkin=answer, checkin_at=utcnow())
        )
        return result.rowcount == 1


@dataclass(frozen=True)
class RoundFigures:
    slot: datetime
    eligible: int
    groups: int
    answered: int  # seats with a check-in
    met: int  # seats that answered 会えた


async def figures(db: Database, *, team_id: str, limit: int = 5) -> list[RoundFigures]:
    """The latest rounds, newest first, with their check-in counts (one GROUP BY)."""
    async with db.read() as session:
        rows = await session.execute(
            select(
                IntroRound.slot,
                IntroRound.eligible,
                IntroRound.groups,
                func.count(IntroSeat.checkin),
                func.sum(case((IntroSeat.checkin == "met", 1), else_=0)),
            )
            .outerjoin(IntroSeat, IntroSeat.round_id == IntroRound.id)
            .where(IntroRound.team_id == team_id)
            .group_by(IntroRound.id, IntroRound.slot, IntroRound.eligible, IntroRound.groups)
            .order_by(IntroRound.slot.desc())
            .limit(limit)
        )
        return [RoundFigures(s, int(e), int(g), int(a or 0), int(m or 0)) for s, e, g, a, m in rows]


def _theirs(team_id: str, user_id: str):
    """Outbox rows of this feature addressed to the member, alone or in a group DM ("U1,U2")."""
    return (
        OutboxMessage.team_id == team_id,
        or_(OutboxMessage.key.startswith(f"{INTRO_KEY}:"), OutboxMessage.key.startswith(f"{CHECKIN_KEY}:")),
        or_(
            OutboxMessage.target == user_id,
            OutboxMessage.target.startswith(f"{user_id},"),
            OutboxMessage.target.endswith(f",{user_id}"),
            OutboxMessage.target.contains(f",{user_id},"),
        ),
    )


async def collect(db: Database, *, team_id: str, user_id: str) -> dict[str, Any]:
    """For /mydata export: the opt-in, and every round the member was in with who they met and their answer."""
    async with db.read() as session:
        row = await session.scalar(
            select(IntroOptIn).where(IntroOptIn.team_id == team_id, IntroOptIn.user_id == user_id)
        )
        mine = (
            await session.execute(
                select(IntroRound.slot, IntroSeat.round_id, IntroSeat.group_no, IntroSeat.checkin, IntroSeat.checkin_at)
                .join(IntroRound, IntroRound.id == IntroSeat.round_id)
                .where(IntroSeat.team_id == team_id, IntroSeat.user_id == user_id)
                .order_by(IntroRound.slot)
            )
        ).all()
        others: dict[tuple[int, int], list[str]] = defaultdict(list)
        if mine:
            rows = await session.execute(
                select(IntroSeat.round_id, IntroSeat.group_no, IntroSeat.user_id).where(
                    IntroSeat.round_id.in_({r for _, r, _, _, _ in mine}), IntroSeat.user_id != user_id
                )
            )
            for round_id, group_no, other in rows:
                others[(round_id, group_no)].append(other)
    return {
        "optin": None
        if row is None
        else {"active": row.active, "preference": row.preference, "since": row.created_at.isoformat()},
        "rounds": [
            {
                "round": slot.isoformat(),
                "with": sorted(others[(round_id, group_no)]),
                "checkin": checkin,
                "checkin_at": at.isoformat() if at else None,
            }
            for slot, round_id, group_no, checkin, at in mine
        ],
    }


async def forget(db: Database, *, team_id: str, user_id: str) -> int:
    """Erase the opt-in, the member's seats (with their check-ins) and this feature's messages to them.

    The others in a group keep their own seat; pending introductions and check-ins are not sent.
    Returns how many rows held the member's data."""
    async with db.write() as session:
        count = (
            await session.execute(
                delete(IntroOptIn).where(IntroOptIn.team_id == team_id, IntroOptIn.user_id == user_id)
            )
        ).rowcount
        count += (
            await session.execute(delete(IntroSeat).where(IntroSeat.team_id == team_id, IntroSeat.user_id == user_id))
        ).rowcount
        await session.execute(
            update(OutboxMessage)
            .where(*_theirs(team_id, user_id), OutboxMessage.status.in_(("pending", "sending")))
            .values(status="failed", last_error="erased", locked_until=None)
        )
        count += (
            await session.execute(
                update(OutboxMessage).where(*_theirs(team_id, user_id)).values(payload={}, target="erased")
            )
        ).rowcount
    return count
