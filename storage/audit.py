"""The audit log: decisions and privacy actions, recorded without personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import AuditEntry
from storage.types import utcnow


def record(
    session: AsyncSession,
    *,
    team_id: str,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry inside the caller's transaction, so the decision and its record commit together."""
    session.add(AuditEntry(team_id=team_id, actor=actor, action=action, subject=subject, detail=detail, at=utcnow()))


async def recent(db: Database, *, team_id: str, limit: int = 50) -> list[AuditEntry]:
    async with db.read() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.team_id == team_id).order_by(AuditEntry.id.desc()).limit(limit)
        )
        return list(rows)
