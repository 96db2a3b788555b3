"""The ticker: APScheduler wakes every minute; due slots are claimed, run once, caught up after a restart.

APScheduler keeps no state here (memory job store, never shared between processes): the database is the
only record of what ran. A slot missed by less than the grace window is caught up; older ones are
recorded as skipped, so nobody gets a reminder for a programme that ended an hour ago.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.slack.context import Deps
from schedules import registry
from schedules.job import Job
from storage import job_runs

log = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=24)


def all_jobs() -> list[Job]:
    return registry.JOBS


class Scheduler:
    def __init__(self, deps: Deps, jobs: list[Job] | None = None, *, ticker: bool = True) -> None:
        self.deps = deps
        # False: catch-up still runs on start, but nothing ticks by the wall clock (tests tick by hand).
        self.ticker = ticker
        self.jobs = {job.name: job for job in (jobs if jobs is not None else all_jobs())}
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._aps: AsyncIOScheduler | None = None

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.deps.settings.yakuba_catchup_minutes)

    async def start(self) -> None:
        # APScheduler says "Running job…" and "…executed successfully" at INFO for every job every minute;
        # job_runs and /metrics record what ran. Its warnings (missed runs) and errors still show.
        quiet = logging.getLogger("apscheduler")
        if quiet.level == logging.NOTSET:  # an operator who set a level on purpose keeps it
            quiet.setLevel(logging.WARNING)
        await self.catch_up(self.deps.clock())
        if not self.ticker:
            return
        self._aps = AsyncIOScheduler(timezone=self.deps.settings.tz)
        for job in self.jobs.values():
            # One ticker per job, every minute on the minute; added after start-up catch-up, never replaced.
            self._aps.add_job(
                self._on_tick,
                CronTrigger(second=0, timezone=self.deps.settings.tz),
                args=[job.name],
                id=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=50,
            )
        self._aps.start()

    async def shutdown(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None

    async def _on_tick(self, name: str) -> None:
        try:
            await self.tick(self.jobs[name], self.deps.clock())
        except Exception:  # one failing tick must not stop the ticker
            log.exception("job %s tick failed", name)

    async def catch_up(self, now: datetime) -> None:
        """After a restart: run slots due within the grace window, record older unclaimed ones as skipped."""
        for job in self.jobs.values():
            if job.slots is None:
                continue
            stale = await job.slots(self.deps, now - LOOKBACK, now - self.grace)
            taken = await job_runs.claimed_slots(
                self.deps.db, team_id=self.deps.team_id, job=job.name, start=now - LOOKBACK, end=now - self.grace
            )
            # On a first start nothing was missed: the slots before it are recorded quietly.
            level = (
                logging.WARNING
                if stale and await job_runs.runs(self.deps.db, team_id=self.deps.team_id, job=job.name, limit=1)
                else logging.INFO
            )
            for slot in stale:
                if slot not in taken and await job_runs.claim(
                    self.deps.db, team_id=self.deps.team_id, job=job.name, slot=slot, owner=self.owner, status="skipped"
                ):
                    log.log(level, "job %s slot %s missed by more than the grace window: skipped", job.name, slot)
                    self._count(job, "skipped")
            if job.resumable:
                await self._resume(job, now)
            await self.tick(job, now)

    async def _resume(self, job: Job, now: datetime) -> None:
        """Slots a resumable job claimed but never finished (its process died mid-run): run again within grace."""
        db, team = self.deps.db, self.deps.team_id
        unfinished = await job_runs.unfinished_slots(db, team_id=team, job=job.name, start=now - LOOKBACK, end=now)
        for slot in sorted(unfinished):
            if slot <= now - self.grace:
                log.warning("job %s slot %s was left unfinished beyond the grace window: skipped", job.name, slot)
                await job_runs.finish(db, team_id=team, job=job.name, slot=slot, status="skipped", detail="stale")
                self._count(job, "skipped")
                continue
            log.warning("job %s slot %s was claimed but never finished: running it again", job.name, slot.isoformat())
            await self._execute(job, slot)

    async def tick(self, job: Job, now: datetime) -> list[tuple[datetime, str]]:
        """Run every unclaimed slot of `job` due in (now - grace, now]; what `jobs run --at` calls too."""
        if job.slots is None:
            try:
                await job.run(self.deps, now)
            except Exception:
                self._count(job, "failed")
                raise
            self._count(job, "done")
            return [(now, "done")]
        results = []
        for slot in await job.slots(self.deps, now - self.grace, now):
            results.append((slot, await self.run_slot(job, slot)))
        return results

    async def run_slot(self, job: Job, slot: datetime) -> str:
        db, team = self.deps.db, self.deps.team_id
        if not await job_runs.claim(db, team_id=team, job=job.name, slot=slot, owner=self.owner):
            self._count(job, "taken")
            return "taken"
        return await self._execute(job, slot)

    async def _execute(self, job: Job, slot: datetime) -> str:
        db, team = self.deps.db, self.deps.team_id
        try:
            detail = await job.run(self.deps, slot)
        except Exception as exc:
            log.exception("job %s slot %s failed", job.name, slot.isoformat())
            await job_runs.finish(db, team_id=team, job=job.name, slot=slot, status="failed", detail=type(exc).__name__)
            self._count(job, "failed")
            return "failed"
        await job_runs.finish(db, team_id=team, job=job.name, slot=slot, status="done", detail=detail)
        self._count(job, "done")
        return "done"

    def _count(self, job: Job, outcome: str) -> None:
        self.deps.metrics.job_runs.labels(job=job.name, outcome=outcome).inc()

    async def upcoming(
        self, now: datetime, *, horizon: timedelta = timedelta(days=7), count: int = 3
    ) -> dict[str, list[datetime]]:
        out: dict[str, list[datetime]] = {}
        for job in self.jobs.values():
            out[job.name] = [] if job.slots is None else (await job.slots(self.deps, now, now + horizon))[:count]
        return out
