"""The ticker: a slot is claimed once across processes, caught up within grace, skipped beyond it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import create_app
from schedules.job import Job, cron_slots
from schedules.scheduler import Scheduler
from storage import job_runs, migrate

JST = timedelta(hours=9)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def counting_job(runs: list[datetime], cron: str = "30 8 * * *") -> Job:
    async def run(deps, slot):
        runs.append(slot)
        await asyncio.sleep(0.01)  # let a competing process interleave
        return "ok"

    return Job(name="test-morning", summary_key="jobs.maintenance", run=run, slots=cron_slots(cron))


@pytest.fixture
async def yakuba(settings, clock):
    app = create_app(settings, team_id="T0LOCAL", clock=clock)
    await migrate.upgrade(app.deps.db)
    yield app
    await app.close()


async def test_cron_slots_are_read_in_tokyo_time(yakuba):
    slots = await cron_slots("30 8 * * *")(yakuba.deps, at("2026-11-22T00:00+09:00"), at("2026-11-24T00:00+09:00"))
    assert slots == [at("2026-11-22T08:30+09:00"), at("2026-11-23T08:30+09:00")]


async def test_a_slot_runs_once_however_often_it_ticks(yakuba):
    runs: list[datetime] = []
    scheduler = Scheduler(yakuba.deps, [counting_job(runs)])
    job = scheduler.jobs["test-morning"]
    for minute in range(0, 10):
        await scheduler.tick(job, at("2026-11-23T08:30+09:00") + timedelta(minutes=minute))
    assert runs == [at("2026-11-23T08:30+09:00")]
    [run] = await job_runs.runs(yakuba.deps.db, team_id="T0LOCAL", job="test-morning")
    assert run.status == "done" and run.detail == "ok"


async def test_two_processes_on_one_database_run_a_slot_once(yakuba, settings):
    other = create_app(settings, team_id="T0LOCAL", clock=yakuba.deps.clock)
    try:
        runs: list[datetime] = []
        first, second = Scheduler(yakuba.deps, [counting_job(runs)]), Scheduler(other.deps, [counting_job(runs)])
        second.owner = "other-host:1"
        now = at("2026-11-23T08:31+09:00")
        results = await asyncio.gather(*(s.tick(s.jobs["test-morning"], now) for s in (first, second, first, second)))
        assert runs == [at("2026-11-23T08:30+09:00")]
        assert sorted(outcome for result in results for _, outcome in result) == ["done", "taken", "taken", "taken"]
    finally:
        await other.close()


async def test_restart_catches_up_within_grace_and_skips_older(yakuba, caplog):
    runs: list[datetime] = []
    scheduler = Scheduler(yakuba.deps, [counting_job(runs, "30 8,20 * * *")])
    # Down since the morning of the 22nd until 08:50 on the 23rd: last night's slot is stale, this morning's in grace.
    morning = at("2026-11-22T08:30+09:00")
    await job_runs.claim(yakuba.deps.db, team_id="T0LOCAL", job="test-morning", slot=morning, owner="x", status="done")
    with caplog.at_level(logging.WARNING):
        await scheduler.catch_up(at("2026-11-23T08:50+09:00"))
    assert runs == [at("2026-11-23T08:30+09:00")]
    recorded = {r.slot: r.status for r in await job_runs.runs(yakuba.deps.db, team_id="T0LOCAL")}
    assert recorded == {morning: "done", at("2026-11-22T20:30+09:00"): "skipped", at("2026-11-23T08:30+09:00"): "done"}
    assert "skipped" in caplog.text
    # A second restart finds everything recorded and does nothing again.
    await Scheduler(yakuba.deps, [counting_job(runs, "30 8,20 * * *")]).catch_up(at("2026-11-23T08:55+09:00"))
    assert len(runs) == 1


async def test_a_failing_run_is_recorded_and_not_retried(yakuba):
    async def boom(deps, slot):
        raise RuntimeError("slack down")

    job = Job(name="boom", summary_key="jobs.maintenance", run=boom, slots=cron_slots("0 9 * * *"))
    scheduler = Scheduler(yakuba.deps, [job])
    assert await scheduler.tick(job, at("2026-11-23T09:00+09:00")) == [(at("2026-11-23T09:00+09:00"), "failed")]
    assert await scheduler.tick(job, at("2026-11-23T09:01+09:00")) == [(at("2026-11-23T09:00+09:00"), "taken")]


async def test_the_real_ticker_starts_and_stops(yakuba):
    scheduler = Scheduler(yakuba.deps)
    await scheduler.start()
    assert scheduler._aps is not None and scheduler._aps.running
    assert {job.id for job in scheduler._aps.get_jobs()} == set(scheduler.jobs)
    await scheduler.shutdown()


async def test_a_first_start_records_earlier_slots_without_warning(yakuba, caplog):
    scheduler = Scheduler(yakuba.deps, [counting_job([], "30 8,20 * * *")])
    with caplog.at_level(logging.INFO, logger="schedules.scheduler"):
        await scheduler.catch_up(at("2026-11-23T08:50+09:00"))
    skipped = [r for r in caplog.records if "missed" in r.getMessage()]
    assert skipped and all(r.levelno == logging.INFO for r in skipped)  # nothing ran here before: nothing missed
