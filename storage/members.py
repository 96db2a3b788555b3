"""Members: who is in the workspace and where they are in the join → register → approve life."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Member
from storage.sql import insert_ignore
from storage.types import utcnow


async def join(session: AsyncSession, *, team_id: str, user_id: str) -> Member:
    """Idempotent, inside the caller's transaction: a first join creates the row; a rejoin restores it."""
    now = utcnow()
    await session.execute(insert_ignore(session, Member, team_id=team_id, user_id=user_id, status="joined",
                                        joined_at=now, created_at=now, updated_at=now))
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
            update(Member).where(Member.team_id == team_id, Member.user_id == user_id, Member.left_at.is_(None))
            .values(left_at=utcnow(), updated_at=utcnow())
        )
        return result.rowcount == 1
