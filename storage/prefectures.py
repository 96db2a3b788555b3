"""Prefecture (県人会) channels: which Slack channel belongs to which prefecture, per team."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import PrefectureChannel
from storage.types import utcnow


async def record(db: Database, *, team_id: str, pref_code: str, channel_id: str, name: str) -> bool:
    """Create or update the link; True when something changed (set-up stays idempotent)."""
    async with db.write() as session:
        row = await session.scalar(
            select(PrefectureChannel).where(
                PrefectureChannel.team_id == team_id, PrefectureChannel.pref_code == pref_code
            )
        )
        if row is None:
            now = utcnow()
            session.add(
                PrefectureChannel(
                    team_id=team_id,
                    pref_code=pref_code,
                    channel_id=channel_id,
                    name=name,
                    created_at=now,
                    updated_at=now,
                )
            )
            return True
        if (row.channel_id, row.name) == (channel_id, name):
            return False
        row.channel_id, row.name = channel_id, name
        return True


async def channel_in(session: AsyncSession, *, team_id: str, pref_code: str | None) -> PrefectureChannel | None:
    if not pref_code:
        return None
    return await session.scalar(
        select(PrefectureChannel).where(PrefectureChannel.team_id == team_id, PrefectureChannel.pref_code == pref_code)
    )


async def channel_for(db: Database, *, team_id: str, pref_code: str | None) -> PrefectureChannel | None:
    async with db.read() as session:
        return await channel_in(session, team_id=team_id, pref_code=pref_code)


async def by_channel(db: Database, *, team_id: str, channel_id: str) -> PrefectureChannel | None:
    async with db.read() as session:
        return await session.scalar(
            select(PrefectureChannel).where(
                PrefectureChannel.team_id == team_id, PrefectureChannel.channel_id == channel_id
            )
        )


async def all_channels(db: Database, *, team_id: str) -> dict[str, PrefectureChannel]:
    async with db.read() as session:
        rows = await session.scalars(select(PrefectureChannel).where(PrefectureChannel.team_id == team_id))
        return {row.pref_code: row for row in rows}
