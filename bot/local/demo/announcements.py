"""The demo's journey 4 (一斉配信): set up the 47 channels, preview an announcement, send it, read the report."""

from __future__ import annotations

from datetime import datetime

from bot.blocks.announcements import SEND
from bot.local.demo.story import JST, StoryClock
from bot.local.workspace import LocalWorkspace
from bot.texts import Texts


async def journey_announce(ws: LocalWorkspace, story: StoryClock) -> None:
    story.at(datetime(2027, 3, 26, 9, 0, tzinfo=JST))
    ws.me = ws.organizer
    ws.narrate("announcements.demo.setup")
    await ws.command("/yakuba", "setup prefectures")
    ws.narrate("announcements.demo.quick")
    texts: Texts = ws.texts
    await ws.command("/announce", f"all {texts('announcements.demo.text')}")
    ws.narrate("announcements.demo.send")
    await ws.click_action(SEND)
    ws.narrate("announcements.demo.status")
    await ws.command("/announce", "status")
