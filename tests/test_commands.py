"""A slow command still answers Slack within 3 seconds, and its answer arrives through response_url."""

from __future__ import annotations

import asyncio
import time

import bot.slack.commands
from bot.blocks.approvals import pending_list


async def test_a_slow_command_acks_in_time_and_answers_later(signed, people, monkeypatch):
    async def slow_is_organizer(deps, user_id):
        await asyncio.sleep(2.6)  # e.g. a busy database
        return True

    monkeypatch.setattr(bot.slack.commands, "is_organizer", slow_is_organizer)  # the declared guard asks it
    started = time.monotonic()
    response = await signed.command(people.organizer, "/approvals")
    acked = time.monotonic() - started
    assert response.status == 200
    assert acked < 2.9
    assert (await response.text()) == ""  # an empty ack: not the help of the catch-all listener
    [reply] = await signed.slack.wait_for_response(timeout=10)
    expected = pending_list(signed.yakuba.deps.texts, [], more=0)
    assert (reply.args["text"], reply.args.get("blocks")) == (expected["text"], expected.get("blocks"))
    assert reply.args["response_type"] == "ephemeral"


async def test_a_fast_command_still_acks_with_its_answer(signed, people):
    response = await signed.command(people.organizer, "/approvals")
    body = await response.json()
    assert body["response_type"] == "ephemeral"
    assert signed.slack.responses == []
