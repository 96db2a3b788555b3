"""Ids carried by buttons and private_metadata are user-controllable: only small ASCII numbers are ids."""

from __future__ import annotations

import pytest

from bot.blocks.common import row_id
from bot.blocks.programs import SUBSCRIBE
from bot.local import requests as req


@pytest.mark.parametrize("value", ["", "0x1", "-1", "²", "٣", "1 OR 1=1", "9" * 10, "9" * 30, None, 12])
def test_only_small_ascii_numbers_are_ids(value):
    assert row_id(value) is None or (isinstance(value, int) and row_id(value) == value)


def test_ids_in_range():
    assert row_id("42") == 42 and row_id(" 7 ") == 7 and row_id("999999999") == 999_999_999


async def test_a_huge_or_exotic_id_on_a_button_is_refused_quietly(signed, people, caplog):
    for value in ("9" * 30, "²", "٣"):
        body = req.block_actions_body(
            user_id=people.member,
            action_id=SUBSCRIBE,
            value=value,
            channel_id=people.broadcast_channel,
            response_url=signed.slack.new_response_url(user=people.member),
        )
        response = await signed.post(body)
        assert response.status == 200
    await signed.settle()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
