"""Claims of scheduled occurrences: (team, job, slot) is unique, so a slot runs once across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from storage.db import Database
from storage.models import JobRun
from storage.sql import claimed
from storage.types import utcnow


async def claim(db: Database, *, team_id: str, job: str, slot: datetime, owner: str, status: str = "running") -> bool:
    async with db.write() as session:
        return await claimed(
            session,
            JobRun,
            team_id=team_id,
            job=job,
            slot=slot,
            status=status,
            claimed_by=owner[:64],
            claimed_at=utcnow(),
        )


async def finish(
    db: Database, *, team_id: str, job: str, slot: datetime, status: str, detail: str | None = None
) -> None:
    async with db.write() as session:
        await session.execute(
            update(JobRun)
            .where(JobRun.team_id == team_id, JobRun.job == job, JobRun.slot == slot)
            .values(status=status, finished_at=utcnow(), detail=detail)
        )


async def runs(db: Database, *, team_id: str, job: str | None = None, limit: int = 100) -> list[JobRun]:
    async with db.read() as session:
        query = select(JobRun).where(JobRun.team_id == team_id)
        if job:
            query = query.where(JobRun.job == job)
        return list(await session.scalars(query.order_by(JobRun.slot.desc()).limit(limit)))


async def claimed_slots(db: Database, *, team_id: str, job: str, start: datetime, end: datetime) -> set[datetime]:
    async with db.read() as session:
        rows = await session.scalars(
            select(JobRun.slot).where(
                JobRun.team_id == team_id, JobRun.job == job, JobRun.slot > start, JobRun.slot <= end
            )
        )
        return set(rows)


async def unfinished_slots(db: Database, *, team_id: str, job: str, start: datetime, end: datetime) -> set[datetime]:
    """Slots in (start, end] claimed but never finished: their claimer died mid-run."""
    async with db.read() as session:
        rows = await session.scalars(
            select(JobRun.slot).where(
                JobRun.team_id == team_id,
                JobRun.job == job,
                JobRun.status == "running",
                JobRun.slot > start,
                JobRun.slot <= end,
            )
        )
        return set(rows)


async def prune(db: Database, *, team_id: str, job: str, before: datetime) -> int:
    """Forget a job's claims older than `before` (a job claiming every minute would otherwise grow without end)."""
    async with db.write() as session:
        result = await session.execute(
            delete(JobRun).where(JobRun.team_id == team_id, JobRun.job == job, JobRun.slot < before)
        )
        return int(result.rowcount or 0)


async def last_done(db: Database, *, team_id: str, job: str, before: datetime) -> datetime | None:
    """The latest slot of `job` before `before` that finished (a summary covers what happened since)."""
    async with db.read() as session:
        return await session.scalar(
            select(JobRun.slot)
            .where(JobRun.team_id == team_id, JobRun.job == job, JobRun.status == "done", JobRun.slot < before)
            .order_by(JobRun.slot.desc())
            .limit(1)
        )
