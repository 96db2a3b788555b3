"""Kill -9 mid-broadcast, then restart: the scenario tests/test_announcements_restart.py and bench/resume.py share.

`yakuba serve` runs as a subprocess against a FakeSlack; an organiser announces to the 47 prefecture
channels with a budget that stalls the sender after BUDGET posts, the process is SIGKILLed there (leases
left as they were), and a second process is started on the same database. Times are the wall clock's:
`restart` is when the second process is spawned, the sends are when the fake recorded them.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.blocks import announcements as ui
from bot.local import requests as req
from bot.texts import Texts
from tests.announce_flow import button
from tests.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
# Per minute, for the bot: it stalls after 30 posts (so the kill lands mid-way); the 17+ left fit one window.
BUDGET = 30


def announced(call) -> bool:
    return call.status == 200 and bool(call.args.get("metadata") or {})


async def start(environ: dict[str, str], port: int):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=ROOT,
        env=environ,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(300):  # wait for the port, up to 30 s
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("serve did not come up")


async def post(port: int, body: bytes, secret: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=req.sign(body, secret)) as response,
    ):
        assert response.status == 200


@dataclass
class Resumed:
    before: int  # announcement posts Slack accepted before the kill
    restart_to_ready: float  # seconds from spawning the second process to its /healthz answering 200
    restart_to_first_send: float  # seconds from spawning it to the first announcement post it made
    restart_to_report: float  # seconds from spawning it to the organiser's report (the broadcast is done)
    announcement: str  # the announcement's id, as the report's title shows it
    stderr: str  # what the second process wrote (checked for tracebacks)


async def kill_and_resume(slack: FakeSlack, environ: dict[str, str], port: int, organizer: str, secret: str) -> Resumed:
    """Announce to every prefecture channel, SIGKILL the sender mid-way, restart it and wait for the report."""
    first = await start(environ, port)
    try:
        url = slack.new_response_url(channel="C0GENERAL", user=organizer)
        body = req.command_body(
            "/announce",
            "all 地震の後、各地の様子を教えてください",
            user_id=organizer,
            channel_id="C0GENERAL",
            response_url=url,
        )
        await post(port, body, secret)
        [shown] = await slack.wait_for_response(timeout=20)
        value = button(shown.args, ui.SEND)["value"]
        click = req.block_actions_body(
            user_id=organizer,
            action_id=ui.SEND,
            value=value,
            channel_id="C0GENERAL",
            response_url=slack.new_response_url(),
        )
        await post(port, click, secret)
        await slack.wait_for("chat.postMessage", count=BUDGET - 5, where=announced, timeout=30)
    finally:
        first.kill()  # SIGKILL: no shutdown, no drain, leases left as they were
        await first.wait()
    before = len(slack.calls_to("chat.postMessage", where=announced))

    restarted = time.time()
    second = await start(environ, port)
    ready = time.time()
    try:
        posts = await slack.wait_for("chat.postMessage", count=before + 1, where=announced, timeout=90)
        resumed = posts[before]
        title = Texts("ja")("announcements.report.title", id=value)
        reported = lambda c: title in str(c.args.get("text"))  # noqa: E731
        [report] = await slack.wait_for("chat.postMessage", where=reported, timeout=90)
    finally:
        second.terminate()
        _, err = await asyncio.wait_for(second.communicate(), 20)
    return Resumed(
        before=before,
        restart_to_ready=ready - restarted,
        restart_to_first_send=resumed.at - restarted,
        restart_to_report=report.at - restarted,
        announcement=value,
        stderr=err.decode(),
    )
