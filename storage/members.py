"""Members: who is in the workspace and where they are in the join → register → approve life."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, distinct, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, member_counts
from storage.db import Database
from storage.models import Member, MemberCount
from storage.sql import insert_ignore
from storage.types import UTCDateTime, utcnow


async def join(session: AsyncSession, *, team_id: str, user_id: str) -> Member:
    """Idempotent, inside the caller's transaction: a first join creates the row; a rejoin restores it."""
    now = utcnow()
    await session.execute(
        insert_ignore(
            session,
            Member,
            team_id=team_id,
            user_id=user_id,
            status="joined",
            joined_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    member = await session.scalar(select(Member).where(Member.team_id == team_id, Member.user_id == user_id))
    if member.left_at is not None:
        member.left_at = None
        member.updated_at = now
    return member


async def get(db: Database, *, team_id: str, user_id: str) -> Member | None:
    async with db.read() as session:
        return await session.scalar(select(Member).where(Member.team_id == team_id, Member.user_id == user_id))


async def mark_left(db: Database, *, team_id: str, user_id: str) -> bool:
    async with db.write() as session:
        result = await session.execute(
            update(Member)
            .where(Member.team_id == team_id, Member.user_id == user_id, Member.left_at.is_(None))
            .values(left_at=utcnow(), updated_at=utcnow())
        )
        return result.rowcount == 1


# --- membership: profiles, leaving, backfill, 県人会 figures ------------------------------------

ORG_TYPES = ("municipality", "prefecture", "national", "other")


@dataclass(frozen=True)
class Profile:
    """What /register collects, already validated and cleaned (see bot/blocks/registration_form.py)."""

    name: str
    org_type: str
    pref_code: str
    muni_code: str | None
    department: str
    title: str | None = None
    interests: tuple[str, ...] = ()

    @classmethod
    def of(cls, member: Member) -> Profile:
        return cls(
            name=member.name or "",
            org_type=member.org_type or "municipality",
            pref_code=member.pref_code or "",
            muni_code=member.muni_code,
            department=member.department or "",
            title=member.title,
            interests=tuple(member.interests or ()),
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "interests": list(self.interests)}


async def by_user(session: AsyncSession, *, team_id: str, user_id: str) -> Member | None:
    return await session.scalar(select(Member).where(Member.team_id == team_id, Member.user_id == user_id))


def apply_profile(member: Member, profile: Profile, *, now: datetime) -> None:
    """Copy a profile onto the row inside the caller's transaction (the confirmation time is now)."""
    member.name = profile.name
    member.org_type = profile.org_type
    member.pref_code = profile.pref_code
    member.muni_code = profile.muni_code
    member.department = profile.department
    member.title = profile.title
    member.interests = list(profile.interests)
    member.public_servant_confirmed_at = now
    member.updated_at = now


def apply_answers(member: Member, answers: dict[str, Any], *, asked: list[str]) -> None:
    """The answers to a profile's own fields: the fields `asked` now are replaced (a cleared one removed);
    answers to fields the profile no longer lists are kept until forget or retention removes them."""
    kept = {k: v for k, v in (member.answers or {}).items() if k not in asked}
    member.answers = {**kept, **answers}


async def restore(db: Database, *, team_id: str, user_id: str) -> Member | None:
    """A reactivated account: clear left_at; the profile was never deleted. None when not left."""
    async with db.write() as session:
        result = await session.execute(
            update(Member)
            .where(Member.team_id == team_id, Member.user_id == user_id, Member.left_at.is_not(None))
            .values(left_at=None, updated_at=utcnow())
        )
        if result.rowcount != 1:
            return None
        return await by_user(session, team_id=team_id, user_id=user_id)


async def set_placed(db: Database, *, member_id: int, pref_code: str | None) -> None:
    async with db.write() as session:
        await session.execute(
            update(Member).where(Member.id == member_id).values(placed_pref_code=pref_code, updated_at=utcnow())
        )


async def set_lead(db: Database, *, team_id: str, user_id: str, lead: bool = True) -> bool:
    async with db.write() as session:
        result = await session.execute(
            update(Member).where(Member.team_id == team_id, Member.user_id == user_id).values(is_lead=lead)
        )
        return result.rowcount == 1


async def record_batch(
    session: AsyncSession, *, team_id: str, active: list[str], deleted: list[str], now: datetime
) -> tuple[int, int]:
    """Backfill one page of users.list: new rows for unknown people (no DM), left/restored by `deleted`.

    Returns (added, changed). Everything is set-based so a page costs a handful of statements.
    """
    ids = active + deleted
    if not ids:
        return 0, 0
    known = set(await session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.user_id.in_(ids))))
    gone = set(deleted)
    fresh = [
        {
            "team_id": team_id,
            "user_id": uid,
            "status": "joined",
            "joined_at": now,
            "created_at": now,
            "updated_at": now,
            "left_at": now if uid in gone else None,
            "interests": [],
        }
        for uid in ids
        if uid not in known
    ]
    if fresh:
        # executemany of one cached statement: a 200-row VALUES list would be compiled afresh every page.
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(insert(Member).on_conflict_do_nothing(), fresh)
    added = len(fresh)  # unknown a moment ago; a concurrent join of the same person is not counted twice
    changed = 0
    if deleted:
        result = await session.execute(
            update(Member)
            .where(Member.team_id == team_id, Member.user_id.in_(deleted), Member.left_at.is_(None))
            .values(left_at=now, updated_at=now)
        )
        changed += result.rowcount or 0
    if active:
        result = await session.execute(
            update(Member)
            .where(Member.team_id == team_id, Member.user_id.in_(active), Member.left_at.is_not(None))
            .values(left_at=None, updated_at=now)
        )
        changed += result.rowcount or 0
    return added, changed


@dataclass(frozen=True)
class Association:
    """A 県人会 in figures: approved members still here, distinct governments, the leads' user ids."""

    members: int
    governments: int
    leads: list[str]


async def association(db: Database, *, team_id: str, pref_code: str) -> Association:
    """Figures from the kept counts (storage.member_counts); the leads from members (few, indexed by prefecture)."""
    counted = (
        MemberCount.team_id == team_id,
        MemberCount.pref_code == pref_code,
        MemberCount.status == "approved",
        MemberCount.live.is_(True),
        MemberCount.n > 0,
    )
    # A municipality's staff count their municipality; prefecture or national staff their one government.
    government = case(
        (MemberCount.org_type == "municipality", func.nullif(MemberCount.muni_code, "")),
        else_=func.nullif(MemberCount.org_type, ""),
    )
    here = (
        Member.team_id == team_id,
        Member.pref_code == pref_code,
        Member.status == "approved",
        Member.left_at.is_(None),
    )
    async with db.read() as session:
        members = await session.scalar(select(func.sum(MemberCount.n)).where(*counted))
        governments = await session.scalar(select(func.count(distinct(government))).where(*counted))
        leads = list(
            await session.scalars(
                select(Member.user_id).where(*here, Member.is_lead.is_(True)).order_by(Member.user_id)
            )
        )
    return Association(int(members or 0), governments or 0, leads)


async def leave(db: Database, *, team_id: str, user_id: str) -> bool:
    """Mark a deactivated account left (profile and history kept) and note it in the audit log."""
    async with db.write() as session:
        now = utcnow()
        result = await session.execute(
            update(Member)
            .where(Member.team_id == team_id, Member.user_id == user_id, Member.left_at.is_(None))
            .values(left_at=now, updated_at=now)
        )
        if result.rowcount != 1:
            return False
        audit.record(session, team_id=team_id, actor=user_id, action="member.left", subject=user_id)
        return True


async def awaiting_placement(db: Database, *, team_id: str) -> list[str]:
    """Approved members not (or no longer) in their prefecture's channel: approved before it existed, or moved."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Member.user_id).where(
                Member.team_id == team_id,
                Member.status == "approved",
                Member.left_at.is_(None),
                Member.pref_code.is_not(None),
                or_(Member.placed_pref_code.is_(None), Member.placed_pref_code != Member.pref_code),
            )
        )
        return list(rows)


# --- bulk import ---------------------------------------------------------------------------------------------


_DATETIME_COLUMNS = frozenset(c.name for c in Member.__table__.columns if isinstance(c.type, UTCDateTime))


def _sqlite_rows(columns: Sequence[str], rows: Sequence[tuple]) -> list[tuple]:
    """Datetimes as SQLAlchemy's SQLite DateTime stores them: naive UTC text, always with microseconds."""
    at = [i for i, name in enumerate(columns) if name in _DATETIME_COLUMNS]
    out = []
    for row in rows:
        values = list(row)
        for i in at:
            value = values[i]
            if value is not None:
                values[i] = value.isoformat(" ", "microseconds")  # several times cheaper than strftime
        out.append(tuple(values))
    return out


async def import_batch(db: Database, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """New members in one transaction: COPY on PostgreSQL, one executemany on SQLite; the counts follow.

    Rows are plain tuples in `columns` order with naive UTC datetimes (no ORM objects: at millions of rows the
    per-row bind processing would cost several times the insert). On PostgreSQL the statement trigger adds the
    batch's aggregate to member_counts; on SQLite storage.member_counts.bulk_insert does, in the same transaction.
    """
    if db.is_sqlite:
        statement = f"INSERT INTO members ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        async with db.write_connection() as conn:
            await member_counts.bulk_insert(conn, statement, _sqlite_rows(columns, rows))
        return
    async with db.engine.begin() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table("members", records=rows, columns=list(columns))
