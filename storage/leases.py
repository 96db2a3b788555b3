"""Lease holders across the leased queues (outbox, inbox, announcement deliveries): who holds rows, and release."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from storage.db import Database
from storage.models import AnnouncementDelivery, InboxItem, OutboxMessage

# A lease end long past: a released row is due to whoever claims next, by its usual "lease ran out" path
# (the outbox and deliveries then look for an earlier post before sending again).
EXPIRED = datetime(2000, 1, 1, tzinfo=UTC)


def _leased(model):
    if model is InboxItem:
        return InboxItem.locked_until.is_not(None)
    return model.status == "sending"


async def holders(db: Database, *, team_id: str) -> set[str]:
    """The holders recorded on rows leased now (a handful: one per process that worked lately)."""
    found: set[str] = set()
    async with db.read() as session:
        for model in (OutboxMessage, InboxItem, AnnouncementDelivery):
            rows = await session.scalars(
                select(model.holder)
                .distinct()
                .where(model.team_id == team_id, _leased(model), model.holder.is_not(None))
            )
            found.update(rows)
    return found


async def release(db: Database, *, team_id: str, holders: list[str]) -> int:
    """End the leases these holders have (they are gone): their rows are due at once. Returns how many."""
    released = 0
    async with db.write() as session:
        for model in (OutboxMessage, InboxItem, AnnouncementDelivery):
            result = await session.execute(
                update(model)
                .where(model.team_id == team_id, _leased(model), model.holder.in_(holders))
                .values(locked_until=EXPIRED)
                .execution_options(synchronize_session=False)
            )
            released += int(result.rowcount or 0)
    return released
