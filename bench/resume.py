"""Restart after kill -9: seconds from spawning the new `yakuba serve` to its first resumed announcement post.

Run from the repository root (about a minute per run):

    .venv/bin/python -m bench.resume
    .venv/bin/python -m bench.resume --runs 3

Set-up: a FakeSlack in this process (1 post per second per channel, 600 posts a minute), `yakuba serve` as a
subprocess on a fresh SQLite file, the 47 prefecture channels, and YAKUBA_ANNOUNCE_PER_MINUTE=30 so the
broadcast stalls after 30 posts. The organiser announces to all 47 over signed HTTP; after 25+ posts the
process is SIGKILLed (leases left as they were) and a second one started. Printed per run: the posts before
the kill, the time from the spawn to /healthz 200 (Python's start, the migration check, auth.test: it grows
with the machine's load), to the first resumed post, the first post's time counted from /healthz answering
(negative: it went out during start-up), the time to the report DM, and whether every channel got exactly
one post. Goal: first resumed post ≤ 5 s after the restart, no duplicate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile

from bench.common import table
from tests.fake_slack import started_fake_slack
from tests.restart_flow import ROOT, announced, kill_and_resume

SECRET, TOKEN = "bench-secret", "xoxb-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def one_run(workdir: str) -> list[object]:
    slack = await started_fake_slack(tokens=[TOKEN])
    try:
        organizer = slack.add_user("unei", "運営 花子")["id"]
        slack.enforce_channel_rate(1.0)
        slack.workspace_budget(600)
        port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YAKUBA_", "DATABASE_URL"))}
        environ = {
            **base,
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/resume.db",
            "PYTHONUNBUFFERED": "1",
            "YAKUBA_JMA_FEED_URL": "",  # no JMA watcher in a benchmark of the outbox
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.base_url or "",
            "PORT": str(port),
            "YAKUBA_ORGANIZERS": organizer,
            "YAKUBA_ANNOUNCE_PER_MINUTE": "30",
        }
        setup = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "setup", "prefectures", cwd=ROOT, env=environ,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await setup.communicate()
        if setup.returncode != 0:
            raise SystemExit(err.decode())
        channels = [c["id"] for c in slack.ws.channels.values() if c.get("name", "").startswith("kenjinkai-")]
        result = await kill_and_resume(slack, environ, port, organizer, SECRET)
        posts = sorted(c.args["channel"] for c in slack.calls_to("chat.postMessage", where=announced))
        once = "yes" if posts == sorted(channels) else f"no ({len(posts)} posts)"
        return [
            result.before,
            result.restart_to_ready,
            result.restart_to_first_send,
            result.restart_to_first_send - result.restart_to_ready,
            result.restart_to_report,
            once,
        ]
    finally:
        await slack.stop()


async def main(runs: int) -> None:
    rows = []
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="yakuba-resume-") as workdir:
            rows.append([f"run {i + 1}", *await one_run(workdir)])
    headers = [
        "",
        "posts before kill",
        "restart→ready s",
        "restart→first send s",
        "ready→first send s",
        "restart→report s",
        "each once",
    ]
    print(table(headers, rows, digits=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    asyncio.run(main(parser.parse_args().runs))
