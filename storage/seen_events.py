"""Seen Slack events: the first delivery of an event_id claims it; retries and re-sends find it taken."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from storage.db import Database
from storage.models import SeenEvent
from storage.sql import claimed
from storage.types import utcnow


async def claim(db: Database, *, team_id: str, event_id: str, event_type: str) -> bool:
    async with db.write() as session:
        return await claimed(
            session,
            SeenEvent,
            event_id=event_id[:64],
            team_id=team_id,
            event_type=event_type[:64],
            received_at=utcnow(),
        )


async def prune(db: Database, *, older_than: timedelta = timedelta(days=7)) -> int:
    """Slack retries within minutes; a week of ids is plenty and keeps the table small."""
    async with db.write() as session:
        result = await session.execute(delete(SeenEvent).where(SeenEvent.received_at < utcnow() - older_than))
        return result.rowcount or 0
