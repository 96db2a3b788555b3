"""The local Slack (and so the tests' fake) refuses the Block Kit Slack refuses, with Slack's error codes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession
from slack_sdk.errors import SlackApiError

from bot.local import requests as lr
from tests.fake_slack import client_for, started_fake_slack


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def select(count: int) -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i)} for i in range(count)]
    return {
        "type": "input",
        "block_id": "pick",
        "label": {"type": "plain_text", "text": "pick"},
        "element": {"type": "static_select", "action_id": "pick", "options": options},
    }


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": blocks, **extra}


@pytest.fixture
async def slack():
    fake = await started_fake_slack()
    yield fake
    await fake.stop()


async def refused(coro) -> str:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value.response["error"]


MESSAGES = {
    "empty section text": [section("")],
    "section text over 3,000": [section("x" * 3001)],
    "section without text or fields": [{"type": "section"}],
    "more than 50 blocks": [section("x")] * 51,
    "11 fields": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
    "button text over 75": [
        {
            "type": "actions",
            "elements": [{"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}],
        }
    ],
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
async def test_a_message_slack_would_refuse_is_invalid_blocks(slack, name):
    user = slack.add_user("alice")["id"]
    client = client_for(slack, retries=False)
    assert await refused(client.chat_postMessage(channel=user, text="t", blocks=MESSAGES[name])) == "invalid_blocks"
    assert slack.dm_messages(user) == []


async def test_the_limits_themselves_are_accepted(slack):
    user = slack.add_user("alice")["id"]
    client = client_for(slack, retries=False)
    await client.chat_postMessage(channel=user, text="t", blocks=[section("x" * 3000)] * 50)
    trigger = lr.new_trigger_id(user)
    view = modal([section("x")] * 99 + [select(100)], private_metadata="m" * 3000)
    assert (await client.views_open(trigger_id=trigger, view=view))["ok"]


VIEWS = {
    "101 options": modal([select(101)]),
    "private_metadata over 3,000": modal([section("x")], private_metadata="m" * 3001),
    "more than 100 blocks": modal([section("x")] * 101),
    "empty section text": modal([section("")]),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
async def test_a_view_slack_would_refuse_is_invalid_arguments(slack, name):
    user = slack.add_user("alice")["id"]
    client = client_for(slack, retries=False)
    trigger = lr.new_trigger_id(user)
    assert await refused(client.views_open(trigger_id=trigger, view=VIEWS[name])) == "invalid_arguments"
    assert slack.views_for(user) == []


async def test_a_response_url_post_slack_would_refuse_is_400_and_shows_nothing(slack):
    user = slack.add_user("alice")["id"]
    url = slack.new_response_url(channel="C0GENERAL", user=user)
    async with ClientSession() as http, http.post(url, json={"text": "t", "blocks": [section("")]}) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_blocks"
    assert slack.ephemerals(user) == []
