"""The post rate remembered per workspace between broadcasts (learned by bot.slack.pacer.SendRate)."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import SendRate
from storage.sql import claimed
from storage.types import utcnow


async def remembered(db: Database, *, team_id: str) -> float | None:
    async with db.read() as session:
        return await session.scalar(select(SendRate.per_second).where(SendRate.team_id == team_id))


async def remember(db: Database, *, team_id: str, per_second: float) -> None:
    """Store the workspace's rate; the last broadcast to finish has the freshest view, so it wins."""
    async with db.write() as session:
        if await claimed(session, SendRate, team_id=team_id, per_second=per_second, updated_at=utcnow()):
            return
        row = await session.get(SendRate, team_id)
        row.per_second = per_second
