"""The demo's calendar and stage directions: a clock that moves only when the story says so, and quiet steps.

The demo's app, its database rows and the local Slack all read the process clock; holding it at the story's
moments makes every date and time in the transcript the same on every run, whatever day it is run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from bot.local.workspace import LocalWorkspace

JST = ZoneInfo("Asia/Tokyo")
START = datetime(2027, 3, 23, 10, 0, tzinfo=JST)  # a Tuesday, a week before the April transfers


class StoryClock:
    """The process clock held still at the story's moment; `at()` moves it on (or back) to another."""

    def __init__(self, start: datetime) -> None:
        self._travel = time_machine.travel(start, tick=False)
        self._traveller: Any = None

    def __enter__(self) -> StoryClock:
        self._traveller = self._travel.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._travel.stop()

    def at(self, moment: datetime) -> None:
        self._traveller.move_to(moment)


Journey = Callable[[LocalWorkspace, StoryClock], Awaitable[None]]


async def quietly(ws: LocalWorkspace, step: Callable[[], Awaitable[Any]]) -> Any:
    """Run a step whose output the story only summarises (it was shown once already for someone else)."""
    printer = ws.printer
    ws.printer = lambda _line: None
    try:
        return await step()
    finally:
        ws.printer = printer


async def press_confirmed(ws: LocalWorkspace, action_id: str) -> None:
    """Press a button that asks first: show Slack's confirmation dialog, then confirm it."""
    element = next(c.element for c in reversed(ws.clickables) if c.element.get("action_id") == action_id)
    dialog = element.get("confirm") or {}

    def words(key: str) -> str:
        return str((dialog.get(key) or {}).get("text", ""))

    ws.printer(ws.texts("demo.dialog.title", title=words("title")))
    ws.printer(f"  │ {words('text')}")
    ws.printer(f"  │   [{words('confirm')}] [{words('deny')}]")
    ws.printer(ws.texts("demo.dialog.chosen", choice=words("confirm")))
    await ws.click_action(action_id)
