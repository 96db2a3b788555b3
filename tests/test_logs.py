"""Quiet logs: no bolt warning at start, no APScheduler line per job per minute, one start line without secrets."""

from __future__ import annotations

import asyncio
import logging
import re

from bot.app import create_app
from bot.server import init_web
from tests.clock import TestClock
from tests.conftest import SECRET, TOKEN

START = re.compile(r"started: mode=(\S+) database=(\S+) team=(\S+) lang=(\S+) tz=(\S+)$")


async def test_start_logs_one_line_and_nothing_noisy(aiohttp_client, settings, monkeypatch, caplog):
    # As in production: the token is in the environment too (bolt reads it from there by itself).
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    yakuba = create_app(settings, clock=TestClock())
    await aiohttp_client(init_web(yakuba))
    # Make APScheduler run a job now, as its ticker does every minute.
    ran = asyncio.Event()
    yakuba.scheduler._aps.add_job(ran.set, id="probe")
    await asyncio.wait_for(ran.wait(), timeout=5)
    await yakuba.deps.drain()

    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "will be unused" in m]
    assert not [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno < logging.WARNING]
    starts = [START.search(r.getMessage()) for r in caplog.records if r.levelno == logging.INFO]
    starts = [m.groups() for m in starts if m]
    assert starts == [("serve", yakuba.deps.db.dialect, "T0LOCAL", "ja", "Asia/Tokyo")]
    assert yakuba.deps.db.dialect in ("sqlite", "postgresql")
    for message in messages:
        for secret in (TOKEN, SECRET, settings.database_url):
            assert secret not in message
