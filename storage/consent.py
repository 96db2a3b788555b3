"""Consent history: which approved members have not agreed to the terms' current version, and their agreement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from storage import audit
from storage.db import Database
from storage.models import Member


def _awaiting(team_id: str, version: str) -> ColumnElement[bool]:
    # Members who joined before consent was asked (NULL) are asked too: they never agreed to any version.
    return (
        (Member.team_id == team_id)
        & (Member.status == "approved")
        & Member.left_at.is_(None)
        & or_(Member.consent_version.is_(None), Member.consent_version != version)
    )


async def awaiting(db: Database, *, team_id: str, version: str, limit: int = 500, after_id: int = 0) -> list[Member]:
    """Approved members still in the workspace whose last agreement is not to `version`, by row id after
    `after_id` (a page: callers walking everyone pass the last id they saw)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Member).where(_awaiting(team_id, version), Member.id > after_id).order_by(Member.id).limit(limit)
        )
        return list(rows)


async def count_awaiting(db: Database, *, team_id: str, version: str) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count(Member.id)).where(_awaiting(team_id, version))) or 0)


async def agree(db: Database, *, team_id: str, user_id: str, version: str, now: datetime) -> str:
    """Record that the member agreed to `version`: "recorded", "already" (pressed before), or "unknown"."""
    async with db.write() as session:
        member = await session.scalar(
            select(Member).where(Member.team_id == team_id, Member.user_id == user_id, Member.left_at.is_(None))
        )
        if member is None or member.status != "approved":  # the DM reaches approved members only
            return "unknown"
        if member.consent_version == version:
            return "already"
        member.consent_version, member.consent_at = version, now
        audit.record(
            session,
            team_id=team_id,
            actor=user_id,
            action="consent.agreed",
            subject=user_id,
            detail={"version": version},
        )
        return "recorded"
