"""The `yakuba` command as an operator runs it: real subprocesses, no Slack."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp

from bot.local import requests as req
from bot.texts import Texts
from tests.conftest import SECRET, TOKEN

ROOT = Path(__file__).resolve().parent.parent


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YAKUBA_", "DATABASE_URL"))}
    # YAKUBA_JMA_FEED_URL empty: a `yakuba serve` under test never reaches JMA (tests/fake_jma.py stands in for it).
    return {
        **base,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "PYTHONUNBUFFERED": "1",
        "YAKUBA_JMA_FEED_URL": "",
        **extra,
    }


async def yakuba(*args: str, environ: dict[str, str], stdin: bytes | None = None, timeout: float = 120):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=environ,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    return process.returncode, out.decode(), err.decode()


async def test_console_takes_a_session_from_stdin(tmp_path):
    script = "n\njoin tanaka 田中 一郎\n/yakuba help\nas organiser\n/nosuch thing\nquit\n"
    code, out, err = await yakuba("console", environ=env(tmp_path), stdin=script.encode())
    assert code == 0, err
    assert "Traceback" not in out + err
    assert "→ DM @田中 一郎" in out
    assert "│ /faq — " in out  # the help, mrkdwn rendered (no backticks)


async def test_serve_without_token_names_the_missing_variable(tmp_path):
    code, _, err = await yakuba("serve", environ=env(tmp_path))
    assert code != 0
    assert "SLACK_BOT_TOKEN" in err and "Traceback" not in err
    code, _, err = await yakuba("socket", environ=env(tmp_path, SLACK_BOT_TOKEN="xoxb-1"))
    assert code != 0 and "SLACK_APP_TOKEN" in err and "Traceback" not in err


async def test_db_upgrade_and_jobs_list(tmp_path):
    code, out, err = await yakuba("db", "upgrade", environ=env(tmp_path))
    assert code == 0, err
    before, after = Texts("ja", markup=False)("cli.db.upgraded", revisions="\0").split("\0")
    assert out.strip().startswith(before) and out.strip().endswith(after) and "0017_intros" in out
    code, out, err = await yakuba("jobs", "list", environ=env(tmp_path))
    assert code == 0, err
    assert "maintenance" in out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_welcomes_a_member_once_and_answers_healthz(tmp_path, slack, people):
    port = free_port()
    environ = env(
        tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url, PORT=str(port)
    )
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
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):  # wait for the port, up to 20 s
                try:
                    async with http.get(f"{base}/healthz") as response:
                        health = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert health["ok"] is True and health["database"] == "ok"
            body = req.event_body(req.team_join_event(slack.user(people.member)), event_id="Ev0SERVE")
            for retry in range(3):
                headers = req.sign(body, SECRET) | ({"X-Slack-Retry-Num": str(retry)} if retry else {})
                async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
                    assert response.status == 200
            resent = req.event_body(req.team_join_event(slack.user(people.member)))
            async with http.post(f"{base}/slack/events", data=resent, headers=req.sign(resent, SECRET)) as response:
                assert response.status == 200
        await slack.wait_for("chat.postMessage", timeout=20)
        await slack.wait_for("auth.test", count=1)
        # Give a wrongly duplicated DM every chance to show up before counting: the outbox has drained when
        # healthz reports nothing pending.
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if (await response.json()).get("outbox_pending") == 0:
                        break
                await asyncio.sleep(0.1)
        assert len(slack.dm_messages(people.member)) == 1
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 20)
    assert "Traceback" not in err.decode()
