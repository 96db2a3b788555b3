"""One slow Slack call: how long the welcome DMs queued behind it wait, and when the slow call is given up.

Run from the repository root (about a minute with the defaults):

    .venv/bin/python -m bench.deadline
    .venv/bin/python -m bench.deadline --held 20 --timeouts 10 1

Set-up: the real app (`create_app` + `init_web`, as `yakuba serve`) over signed HTTP on 127.0.0.1 with a fresh
SQLite file, its Web API pointed at an in-process FakeSlack. Slack holds the first member's welcome
chat.postMessage for --held seconds; a second after that call reached Slack, three more members join. Printed
per YAKUBA_SLACK_TIMEOUT: the longest wait of those three DMs from their team_join to Slack recording them,
how many calls ended at the client's deadline, how many posts the slow member got in the end (the held post
lands late; the retry must find it in the DM's history rather than post again) and those history checks.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

from aiohttp.test_utils import TestClient, TestServer

from bench.common import table
from bot.app import create_app
from bot.config import Settings
from bot.local import requests as req
from bot.server import init_web
from tests.fake_slack import client_for, started_fake_slack

SECRET, TOKEN = "bench-secret", "xoxb-bench"


async def one_case(timeout: float, held: float) -> list[object]:
    slack = await started_fake_slack(tokens=[TOKEN])
    try:
        with tempfile.TemporaryDirectory(prefix="yakuba-deadline-") as workdir:
            settings = Settings(
                _env_file=None,
                slack_bot_token=TOKEN,
                slack_signing_secret=SECRET,
                slack_api_url=slack.base_url,
                database_url=f"sqlite+aiosqlite:///{workdir}/deadline.db",
                yakuba_slack_timeout=timeout,
            )
            slow, *others = [slack.add_user(name)["id"] for name in ("slow", "next1", "next2", "next3")]
            dm = (await client_for(slack, token=TOKEN).conversations_open(users=slow))["channel"]["id"]
            hold = slack.delay("chat.postMessage", held, where={"channel": dm})
            yakuba = create_app(settings)
            yakuba.scheduler.ticker = False
            async with TestClient(TestServer(init_web(yakuba))) as http:

                async def join(user: str, event_id: str) -> None:
                    body = req.event_body(req.team_join_event(slack.user(user)), event_id=event_id)
                    response = await http.post("/slack/events", data=body, headers=req.sign(body, SECRET))
                    assert response.status == 200

                await join(slow, "EvSLOW")
                await asyncio.wait_for(hold.arrived.wait(), 30)
                await asyncio.sleep(1.0)  # the timing: the others join a second later
                queued = time.time()
                for i, user in enumerate(others):
                    await join(user, f"EvNEXT{i}")
                calls = await slack.wait_for(
                    "chat.postMessage", count=3, where=lambda c: c.at >= queued, timeout=held + 60
                )
                waited = max(c.at for c in calls) - queued
                await slack.wait_for("chat.postMessage", where={"channel": dm}, timeout=held + 30)  # the hold ends
                await asyncio.sleep(6.0)  # past the first retry's back-off (5 s): the retry looks, finds, stops
                await yakuba.deps.outbox.flush()
                await yakuba.deps.drain(timeout=10)
                abandoned = _timeouts(yakuba.deps.metrics.slack_calls)
                checks = len(slack.calls_to("conversations.history"))
                return [timeout, held, waited, abandoned, len(slack.dm_messages(slow)), checks]
    finally:
        await slack.stop()


def _timeouts(counter) -> str:
    total = 0.0
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("outcome") == "timeout":
                total += sample.value
    return f"{int(total)} timed out"


async def main(held: float, timeouts: list[float]) -> None:
    rows = [await one_case(timeout, held) for timeout in timeouts]
    headers = ["YAKUBA_SLACK_TIMEOUT s", "held s", "3 DMs' longest wait s", "slow call", "slow DMs", "history checks"]
    print(table(headers, rows, digits=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held", type=float, default=20.0)
    parser.add_argument("--timeouts", type=float, nargs="+", default=[10.0, 1.0])
    args = parser.parse_args()
    asyncio.run(main(args.held, args.timeouts))
