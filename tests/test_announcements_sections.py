"""`/announce ka:NAME` finds the 課 by name in the sections table, in kana or kanji, and posts to its channel."""

from __future__ import annotations

from bot.blocks.announcements import SEND
from storage import sections
from tests.announce_flow import button, click, command, last_reply


async def test_announce_to_a_section_by_its_japanese_name(signed, people):
    channel = signed.slack.add_channel("ka-bousai")["id"]
    async with signed.yakuba.deps.db.write() as session:
        await sections.upsert(
            session,
            team_id="T0LOCAL",
            spec=sections.SectionSpec(name="防災課", kind="work", kana="ぼうさいか", channel_id=channel),
        )
    await command(signed, people.organizer, "ka:ぼうさい 訓練のお知らせ")
    preview = last_reply(signed)
    await click(signed, people.organizer, SEND, button(preview, SEND)["value"])
    await signed.yakuba.deps.drain()
    await signed.slack.wait_for("chat.postMessage", where={"channel": channel})
    assert [m["text"] for m in signed.slack.messages(channel) if "訓練" in m.get("text", "")]
