"""Helpers the events tests share: a catalogue, its import through the app's own path, clicks, what reached Slack."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.services import events as service
from storage import event_io
from storage import events as store
from tests.conftest import SignedSlack

JST = ZoneInfo("Asia/Tokyo")
TEAM = "T0LOCAL"
# The test clock starts on Wednesday 2026-11-25 07:00 JST (tests/clock.py): the 説明会 is that Friday evening.
START = datetime(2026, 11, 27, 19, 0, tzinfo=JST)
END = START + timedelta(hours=1)
JOIN_URL = "https://zoom.example.jp/j/8120-secret"
CATALOGUE = """\
events:
  - key: setsumeikai-1127
    title: 新規入庁者向け説明会
    kind: 説明会
    starts_at: 2026-11-27 19:00
    ends_at: 2026-11-27 20:00
    capacity: {capacity}
    deadline: 2026-11-27 12:00
    audience: all
    join_url: {join_url}
    hosts: [{host}]
    description: はじめての方向けに、オンライン市役所の歩き方をご案内します。
    publish: true
{extra}"""


def catalogue(tmp_path: Path, *, host: str, capacity: int = 2, extra: str = "", name: str = "events.yaml") -> Path:
    path = tmp_path / name
    path.write_text(CATALOGUE.format(capacity=capacity, join_url=JOIN_URL, host=host, extra=extra), encoding="utf-8")
    return path


async def import_catalogue(signed: SignedSlack, path: Path) -> event_io.Report:
    """What `yakuba import events FILE` does online, with the test's clock and app (bot/cli/events.py)."""
    deps = signed.yakuba.deps

    async def on_saved(event, outcome: str, publish: bool) -> None:
        await service.saved(deps, event, outcome, publish_now=publish)

    report = await event_io.import_events(
        db=deps.db, team_id=TEAM, path=path, now=deps.clock(), tz=deps.settings.tz, on_saved=on_saved
    )
    await deps.outbox.flush()
    await signed.settle()
    return report


async def ready(signed: SignedSlack) -> SignedSlack:
    await signed.yakuba.identify()
    signed.yakuba.deps.event_posts.interval = 0.01  # the pace between two updates of one post, short for tests
    return signed


def button_of(message: dict, action_id: str) -> dict | None:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def body(message: dict) -> str:
    return (message.get("text") or "") + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def bot_posts(signed: SignedSlack, channel: str) -> list[dict]:
    return [
        m for m in signed.slack.messages(channel) if m.get("user") == signed.yakuba.deps.bot_user_id or m.get("bot_id")
    ]


def dms(signed: SignedSlack, user: str) -> list[dict]:
    try:
        return signed.slack.messages(signed.slack.dm_channel(user))
    except AssertionError:
        return []


async def click(
    signed: SignedSlack, user: str, action_id: str, value: str, *, channel: str | None = None, message=None
):
    response = await signed.action(user, action_id, value, channel_id=channel, message=message)
    assert response.status == 200
    return response


async def event_by_key(signed: SignedSlack, key: str = "setsumeikai-1127"):
    event = await store.by_key(signed.yakuba.deps.db, team_id=TEAM, key=key)
    assert event is not None
    return event
