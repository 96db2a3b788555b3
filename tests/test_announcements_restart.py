"""Journey 4 across a crash: `yakuba serve` is SIGKILLed mid-announcement, restarted, and still posts 47."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp

from bot.blocks import announcements as ui
from bot.local import requests as req
from bot.texts import Texts
from tests.announce_flow import button
from tests.conftest import SECRET, TOKEN
from tests.test_cli import ROOT, env, free_port, yakuba

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


async def post(port: int, body: bytes) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=req.sign(body, SECRET)) as response,
    ):
        assert response.status == 200


async def test_killed_mid_announcement_resumes_and_posts_each_channel_once(tmp_path, slack, people):
    slack.enforce_channel_rate(1.0)
    slack.workspace_budget(600)
    port = free_port()
    environ = env(
        tmp_path,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.base_url,
        PORT=str(port),
        YAKUBA_ORGANIZERS=people.organizer,
        YAKUBA_ANNOUNCE_PER_MINUTE=str(BUDGET),
    )
    code, _, err = await yakuba("setup", "prefectures", environ=environ)
    assert code == 0, err
    channels = [c["id"] for c in slack.ws.channels.values() if c.get("name", "").startswith("kenjinkai-")]
    assert len(channels) == 47

    first = await start(environ, port)
    try:
        url = slack.new_response_url(channel="C0GENERAL", user=people.organizer)
        await post(
            port,
            req.command_body(
                "/announce",
                "all 地震の後、各地の様子を教えてください",
                user_id=people.organizer,
                channel_id="C0GENERAL",
                response_url=url,
            ),
        )
        [shown] = await slack.wait_for_response(timeout=20)
        value = button(shown.args, ui.SEND)["value"]
        click = req.block_actions_body(
            user_id=people.organizer,
            action_id=ui.SEND,
            value=value,
            channel_id="C0GENERAL",
            response_url=slack.new_response_url(),
        )
        await post(port, click)
        await slack.wait_for("chat.postMessage", count=BUDGET - 5, where=announced, timeout=30)
    finally:
        first.kill()  # SIGKILL: no shutdown, no drain, leases left as they were
        await first.wait()
    before = len(slack.calls_to("chat.postMessage", where=announced))
    assert BUDGET - 5 <= before <= BUDGET < 47

    second = await start(environ, port)
    try:
        title = Texts("ja")("announcements.report.title", id=value)
        await slack.wait_for("chat.postMessage", where=lambda c: title in str(c.args.get("text")), timeout=90)
    finally:
        second.terminate()
        _, err = await asyncio.wait_for(second.communicate(), 20)
    assert "Traceback" not in err.decode()
    posts = [c.args["channel"] for c in slack.calls_to("chat.postMessage", where=announced)]
    assert sorted(posts) == sorted(channels), "every channel exactly once"
    for channel in channels:
        assert len([m for m in slack.messages(channel) if m.get("metadata")]) == 1
    report = [m for m in slack.dm_messages(people.organizer) if title in m["text"]]
    assert len(report) == 1
    assert json.dumps(report[0]["blocks"], ensure_ascii=False).count("47/47") == 1
