"""`yakuba demo`: a scripted walk through the journeys of shared/BRIEF.md, printed as a transcript.

It runs the real app against a LocalSlack with a throw-away SQLite database, so it needs no Slack,
no network and no set-up; each journey is a short script of what a member or organiser does. The story
keeps its own calendar (bot/local/demo/story.py), so two runs print the same transcript.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Collection

from rich.text import Text

from bot.config import Settings
from bot.local import render
from bot.local.demo.announcements import journey_announce
from bot.local.demo.disaster import journey_disaster
from bot.local.demo.events import journey_events
from bot.local.demo.faq import journey_faq
from bot.local.demo.intro import journey_intro
from bot.local.demo.membership import journey_join, journey_move
from bot.local.demo.profile import journey_profile
from bot.local.demo.programs import journey_broadcast
from bot.local.demo.story import START, Journey, StoryClock
from bot.local.workspace import LocalWorkspace

JOURNEYS: list[tuple[str, Journey]] = [
    ("demo.journey.welcome", journey_join),
    ("demo.journey.faq", journey_faq),
    ("demo.journey.broadcast", journey_broadcast),
    ("events.demo.title", journey_events),
    ("announcements.demo.title", journey_announce),
    ("demo.journey.move", journey_move),
    ("intro.demo.title", journey_intro),
    ("disaster.demo.title", journey_disaster),
]
# `yakuba demo --community FILE` with a profile other than the built-in form: journey 1 as that community.
PROFILE_JOURNEYS: list[tuple[str, Journey]] = [("demo.profile.title", journey_profile)]


async def run(
    settings: Settings,
    *,
    lang: str | None = None,
    printer: Callable[[str | Text], None] | None = None,
    only: Collection[str] | None = None,
) -> int:
    """The transcript; `only` keeps the journeys with these title keys (tests compare one journey, cheaply)."""
    with tempfile.TemporaryDirectory(prefix="yakuba-demo-") as tmp, StoryClock(START) as story:
        ws = await LocalWorkspace.start(
            settings,
            lang=lang,
            database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
            printer=printer or render.terminal(),
        )
        try:
            ws.printer(render.styled(ws.texts("demo.title")))
            journeys = JOURNEYS if ws.yakuba.deps.community.is_built_in_form else PROFILE_JOURNEYS
            for title, journey in journeys:
                if only is not None and title not in only:
                    continue
                ws.printer("")
                ws.printer(Text(f"=== {ws.texts(title)} ===", style="bold"))
                await journey(ws, story)
            ws.printer("")
            ws.printer(render.styled(ws.texts("demo.done")))
        finally:
            await ws.close()
    return 0
