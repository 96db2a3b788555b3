"""Helpers for the announcement tests: prefecture channels, the preview, clicks, and counting posts."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import announcements as ui
from bot.local import requests as req
from bot.services.prefectures import setup_prefectures
from storage import announcements as store
from storage import members
from storage.models import Announcement

TEAM = req.TEAM_ID


async def all_prefecture_channels(signed) -> dict[str, str]:
    """The 47 channels as `yakuba setup prefectures` makes them: code → channel id."""
    report = await setup_prefectures(signed.yakuba.deps, team_id=TEAM)
    assert not report.failures
    from storage import prefectures

    return {
        code: row.channel_id
        for code, row in (await prefectures.all_channels(signed.yakuba.deps.db, team_id=TEAM)).items()
    }


async def make_lead(signed, user_id: str, pref_code: str) -> None:
    deps = signed.yakuba.deps
    async with deps.db.write() as session:
        member = await members.join(session, team_id=TEAM, user_id=user_id)
        member.status, member.pref_code, member.is_lead = "approved", pref_code, True


async def approve_members(signed, user_ids: list[str]) -> None:
    async with signed.yakuba.deps.db.write() as session:
        for user_id in user_ids:
            member = await members.join(session, team_id=TEAM, user_id=user_id)
            member.status = "approved"


async def command(signed, user_id: str, text: str = "") -> dict[str, Any] | None:
    """Run /announce; returns the ack body (None when empty) after the listener has finished."""
    response = await signed.command(user_id, "/announce", text)
    assert response.status == 200
    body = await response.text()
    await signed.settle()
    return json.loads(body) if body else None


def last_reply(signed) -> dict[str, Any]:
    """The newest message posted to a response URL (previews, notices)."""
    return signed.slack.responses[-1].args


def button(payload: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in payload.get("blocks", []):
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button in {payload!r}")


async def click(signed, user_id: str, action_id: str, value: str | None) -> dict[str, Any]:
    """Press a button as `user_id`; returns what the bot answered through the response URL."""
    before = len(signed.slack.responses)
    url = signed.slack.new_response_url(channel="C0GENERAL", user=user_id)
    body = req.block_actions_body(
        user_id=user_id, action_id=action_id, value=value, channel_id="C0GENERAL", response_url=url
    )
    assert (await signed.post(body)).status == 200
    await signed.settle()
    replies = signed.slack.responses[before:]
    assert replies, "the bot answered nothing"
    return replies[-1].args


async def preview(signed, user_id: str, text: str) -> dict[str, Any]:
    before = len(signed.slack.responses)
    ack = await command(signed, user_id, text)
    assert ack is None, ack
    assert len(signed.slack.responses) > before
    return last_reply(signed)


async def announce(signed, user_id: str, text: str) -> dict[str, Any]:
    """Quick form, then Send: returns the answer to Send."""
    shown = await preview(signed, user_id, text)
    return await click(signed, user_id, ui.SEND, button(shown, ui.SEND)["value"])


def form_preview(signed, user_id: str) -> dict[str, Any]:
    """The newest preview posted after a form: ephemeral where /announce was typed, else by DM."""
    found = [
        m
        for m in signed.slack.ephemerals(user_id) + signed.slack.dm_messages(user_id)
        if ui.SEND in str(m.get("blocks"))
    ]
    assert found, "no preview"
    return max(found, key=lambda m: float(m["ts"]))


async def latest(signed) -> Announcement:
    rows = await store.recent(signed.yakuba.deps.db, team_id=TEAM, limit=1)
    return rows[0]


def posts_to(slack, channel: str) -> list[dict]:
    return [m for m in slack.messages(channel) if (m.get("metadata") or {}).get("event_type") == ui.METADATA_TYPE]
