"""`yakuba demo`: a scripted walk through the journeys of shared/BRIEF.md, printed as a transcript.

It runs the real app against a LocalSlack with a throw-away SQLite database, so it needs no Slack,
no network and no set-up; each journey is a short script of what a member or organiser does. The story
keeps its own calendar (bot/demo_story.py), so two runs print the same transcript.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from rich.text import Text

from bot import render
from bot.config import Settings
from bot.demo_announcements import journey_announce
from bot.demo_faq import journey_faq
from bot.demo_membership import journey_join, journey_move
from bot.demo_programs import journey_broadcast
from bot.demo_story import START, Journey, StoryClock
from bot.local import LocalWorkspace

JOURNEYS: list[tuple[str, Journey]] = [
    ("demo.journey.welcome", journey_join),
    ("demo.journey.faq", journey_faq),
    ("demo.journey.broadcast", journey_broadcast),
    ("announcements.demo.title", journey_announce),
    ("demo.journey.move", journey_move),
]


async def run(
    settings: Settings, *, lang: str | None = None, printer: Callable[[str | Text], None] | None = None
) -> int:
    with tempfile.TemporaryDirectory(prefix="yakuba-demo-") as tmp, StoryClock(START) as story:
        ws = await LocalWorkspace.start(
            settings,
            lang=lang,
            database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
            printer=printer or render.terminal(),
        )
        try:
            ws.printer(render.styled(ws.texts("demo.title")))
            for title, journey in JOURNEYS:
                ws.printer("")
                ws.printer(Text(f"=== {ws.texts(title)} ===", style="bold"))
                await journey(ws, story)
            ws.printer("")
            ws.printer(render.styled(ws.texts("demo.done")))
        finally:
            await ws.close()
    return 0
