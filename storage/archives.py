"""Meeting archives (e.g. 第7回 ワクチン接種情報交換会): recording and FAQ document links, searchable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from storage import search as engine
from storage.db import Database
from storage.models import Archive

KIND = "archive"
FIELDS = ("series", "number", "held_on", "theme", "recording_url", "faq_doc_url", "attendance", "governments")


@dataclass(frozen=True)
class ArchiveHit:
    archive: Archive
    score: float
    confidence: float


def _sides(a: Archive) -> tuple[str, str]:
    title = f"{a.series}\n第{a.number}回\n{a.theme or ''}"
    held = f"{a.held_on.year}年{a.held_on.month}月{a.held_on.day}日" if a.held_on else ""
    return title, held


def _opt(value: str | None) -> str | None:
    return (value or "").strip() or None


async def upsert(
    *,
    db: Database,
    team_id: str,
    series: str,
    number: int,
    held_on: date | None = None,
    theme: str | None = None,
    recording_url: str | None = None,
    faq_doc_url: str | None = None,
    attendance: int | None = None,
    governments: int | None = None,
) -> tuple[Archive, str]:
    """Create or update by (series, number); returns (archive, "created" | "updated" | "unchanged")."""
    series = (series or "").strip()
    if not series:
        raise ValueError("series is required")
    if int(number) < 0:
        raise ValueError("number must not be negative")
    values: dict[str, Any] = {
        "held_on": held_on,
        "theme": _opt(theme),
        "recording_url": _opt(recording_url),
        "faq_doc_url": _opt(faq_doc_url),
        "attendance": attendance,
        "governments": governments,
    }
    async with db.write() as session:
        row = await session.scalar(
            select(Archive).where(Archive.team_id == team_id, Archive.series == series, Archive.number == int(number))
        )
        if row is None:
            row = Archive(team_id=team_id, series=series, number=int(number), **values)
            session.add(row)
            status = "created"
        elif all(getattr(row, k) == v for k, v in values.items()):
            return row, "unchanged"
        else:
            for k, v in values.items():
                setattr(row, k, v)
            status = "updated"
        await session.flush()
        title, held = _sides(row)
        await engine.index(session, team_id=team_id, kind=KIND, ref_id=row.id, question_side=title, answer_side=held)
    return row, status


async def get(*, db: Database, team_id: str, archive_id: int) -> Archive | None:
    async with db.read() as session:
        return await session.scalar(select(Archive).where(Archive.team_id == team_id, Archive.id == archive_id))


async def list_recent(*, db: Database, team_id: str, limit: int = 10, series: str | None = None) -> list[Archive]:
    """Newest first (by date, then number)."""
    stmt = select(Archive).where(Archive.team_id == team_id)
    if series:
        stmt = stmt.where(Archive.series == series)
    stmt = stmt.order_by(Archive.held_on.desc().nulls_last(), Archive.number.desc()).limit(limit)
    async with db.read() as session:
        return list(await session.scalars(stmt))


async def list_all(*, db: Database, team_id: str) -> list[Archive]:
    async with db.read() as session:
        return list(
            await session.scalars(
                select(Archive).where(Archive.team_id == team_id).order_by(Archive.series, Archive.number)
            )
        )


async def search(*, db: Database, team_id: str, query: str, limit: int = 5) -> list[ArchiveHit]:
    """Archives for a query (series, 第N回, theme; readings and typos as for the FAQ)."""
    async with db.read() as session:
        hits = await engine.search(session, team_id=team_id, kind=KIND, query=query, limit=limit)
        if not hits:
            return []
        rows = {a.id: a for a in await session.scalars(select(Archive).where(Archive.id.in_([h.ref_id for h in hits])))}
    return [
        ArchiveHit(rows[h.ref_id], h.score, h.confidence)
        for h in hits
        if h.ref_id in rows and rows[h.ref_id].team_id == team_id
    ]
