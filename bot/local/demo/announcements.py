"""The demo's journey 4 (一斉配信): set up the 47 channels, preview an announcement, send it, read the report."""

from __future__ import annotations

from bot.blocks.announcements import SEND
from bot.local.workspace import LocalWorkspace
from bot.texts import Texts


def _say(ws: LocalWorkspace, key: str) -> None:
    ws.printer("")
    ws.printer(f"▶ {ws.texts(key)}")


async def journey_announce(ws: LocalWorkspace) -> None:
    ws.me = ws.organizer
    _say(ws, "announcements.demo.setup")
    await ws.command("/yakuba", "setup prefectures")
    _say(ws, "announcements.demo.quick")
    texts: Texts = ws.texts
    await ws.command("/announce", f"all {texts('announcements.demo.text')}")
    _say(ws, "announcements.demo.send")
    await ws.click_action(SEND)
    _say(ws, "announcements.demo.status")
    await ws.command("/announce", "status")
