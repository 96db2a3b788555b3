"""The local workspace's users and channels (the console's emulator state), stored beside the app's data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import LocalSlackObject
from storage.types import utcnow

KINDS = ("user", "channel")


async def load(db: Database, *, team_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    """{kind: {object id: data}} for every stored object of the team (empty kinds when nothing is stored)."""
    out: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
    async with db.read() as session:
        rows = await session.scalars(select(LocalSlackObject).where(LocalSlackObject.team_id == team_id))
        for row in rows:
            out.setdefault(row.kind, {})[row.object_id] = row.data
    return out


async def save(db: Database, *, team_id: str, changed: dict[str, dict[str, dict[str, Any]]]) -> int:
    """Insert or replace the given objects in one transaction; returns how many were written."""
    written = 0
    async with db.write() as session:
        for kind, objects in changed.items():
            if kind not in KINDS:
                raise ValueError(f"unknown local workspace kind {kind!r}")
            if not objects:
                continue
            rows = await session.scalars(
                select(LocalSlackObject).where(
                    LocalSlackObject.team_id == team_id,
                    LocalSlackObject.kind == kind,
                    LocalSlackObject.object_id.in_(list(objects)),
                )
            )
            existing = {row.object_id: row for row in rows}
            for object_id, data in objects.items():
                row = existing.get(object_id)
                if row is None:
                    session.add(
                        LocalSlackObject(
                            team_id=team_id, kind=kind, object_id=object_id, data=data, updated_at=utcnow()
                        )
                    )
                else:
                    row.data = data
                written += 1
    return written
