"""Helpers for the membership tests: fill the /register form, find the approval card, decide it."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import registration as ids
from bot.blocks.approvals import APPROVE
from bot.local import requests as req
from bot.services.prefectures import channel_names, setup_prefectures
from storage import members, prefectures
from storage.models import Member

TEAM = req.TEAM_ID


def option(value: str, text: str = "x") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def form_values(
    *,
    name: Any = "田中 一郎",
    org_type: str | None = "municipality",
    pref: str | None = "13",
    muni: str | None = "131016",
    department: Any = "総務部 広報課",
    title: Any = None,
    interests: Any = None,
    confirm: bool = True,
) -> dict:
    def text(value: Any) -> dict:
        return {"type": "plain_text_input", "value": value}

    def select(value: str | None, kind: str = "static_select") -> dict:
        return {"type": kind, "selected_option": option(value) if value else None}

    return {
        ids.NAME_BLOCK: {ids.NAME: text(name)},
        ids.ORG_TYPE_BLOCK: {ids.ORG_TYPE: select(org_type)},
        ids.PREF_BLOCK: {ids.PREF: select(pref)},
        ids.MUNI_BLOCK: {ids.MUNI: select(muni, "external_select")},
        ids.DEPT_BLOCK: {ids.DEPT: text(department)},
        ids.TITLE_BLOCK: {ids.TITLE: text(title)},
        ids.INTERESTS_BLOCK: {ids.INTERESTS: text(interests)},
        ids.CONFIRM_BLOCK: {
            ids.CONFIRM: {"type": "checkboxes", "selected_options": [option(ids.CONFIRM_VALUE)] if confirm else []}
        },
    }


async def channels(signed, codes: tuple[str, ...] | None = ("01", "13", "27")) -> None:
    """Prefecture channels as `yakuba setup prefectures` makes them (codes=None: all 47 through it)."""
    if codes is None:
        report = await setup_prefectures(signed.yakuba.deps, team_id=TEAM)
        assert not report.failures
        return
    names = channel_names(signed.yakuba.settings.yakuba_prefecture_channel_pattern)
    for code in codes:
        channel = signed.slack.add_channel(names[code])
        await prefectures.record(
            signed.yakuba.deps.db, team_id=TEAM, pref_code=code, channel_id=channel["id"], name=names[code]
        )


async def open_form(signed, user_id: str) -> dict:
    before = len(signed.slack.calls_to("views.open"))
    await signed.command(user_id, "/register")
    await signed.settle()
    assert len(signed.slack.calls_to("views.open")) == before + 1
    return signed.slack.open_views(user_id)[-1]


async def register(signed, user_id: str, **form: Any) -> dict:
    """Open /register, submit it; returns the JSON the bot answered the submission with."""
    view = await open_form(signed, user_id)
    response = await signed.submit(user_id, view, form_values(**form))
    assert response.status == 200
    await signed.settle()
    body = await response.text()
    return json.loads(body) if body else {}


def cards(signed, admin_channel: str, user_id: str | None = None) -> list[dict]:
    """Approval cards (the messages with a profile in fields) in the admin channel, oldest first."""
    return [
        msg
        for msg in signed.slack.messages(admin_channel)
        if any("fields" in b for b in msg.get("blocks") or [])
        and (user_id is None or f"<@{user_id}>" in str(msg.get("blocks")))
    ]


def card_buttons(card: dict) -> list[dict]:
    return [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def decide(signed, user_id: str, card: dict, admin_channel: str, action_id: str = APPROVE):
    value = card_buttons(card)[0]["value"]
    response = await signed.action(user_id, action_id, value, channel_id=admin_channel, message=card)
    assert response.status == 200
    await signed.settle()
    return response


async def member(signed, user_id: str) -> Member | None:
    return await members.get(signed.yakuba.deps.db, team_id=TEAM, user_id=user_id)


async def approved(signed, people, user_id: str, **form: Any) -> Member:
    """Register and approve `user_id` (channels must exist)."""
    await register(signed, user_id, **form)
    await decide(signed, people.organizer, cards(signed, people.admin_channel, user_id)[-1], people.admin_channel)
    row = await member(signed, user_id)
    assert row is not None and row.status == "approved"
    return row
