"""Per-channel FAQ settings: whether the bot answers mentions in a channel (organisers switch it; on by default)."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import FaqChannel
from storage.sql import claimed
from storage.types import utcnow


async def auto_answer(*, db: Database, team_id: str, channel_id: str) -> bool:
    async with db.read() as session:
        value = await session.scalar(
            select(FaqChannel.auto_answer).where(FaqChannel.team_id == team_id, FaqChannel.channel_id == channel_id)
        )
    return True if value is None else bool(value)


async def set_auto_answer(*, db: Database, team_id: str, channel_id: str, on: bool, by: str | None = None) -> bool:
    """Store the setting; returns True when it changed."""
    async with db.write() as session:
        # Insert-or-ignore first, so two organisers switching at once cannot collide on the unique key.
        if await claimed(
            session,
            FaqChannel,
            team_id=team_id,
            channel_id=channel_id,
            auto_answer=on,
            updated_by=by,
            updated_at=utcnow(),
        ):
            return not on  # a new row: it changed only if it now differs from the default (on)
        row = await session.scalar(
            select(FaqChannel).where(FaqChannel.team_id == team_id, FaqChannel.channel_id == channel_id)
        )
        if row.auto_answer == on:
            return False
        row.auto_answer, row.updated_by = on, by
        return True
