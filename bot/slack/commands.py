"""Slash commands answer inside Slack's 3 seconds, even when the database is slow or the process is busy.

At the front (bot/slack/middleware.py), a command is answered in its ack while the server is quiet. While it is
busy, the command goes to the inbox (bot/slack/inbox.py) and is acked empty; the worker runs the same handler,
and whatever the handler acks with is delivered through response_url. A command whose first word opens a
form (`SlashCommand.opens_form`, declared next to its handler) always runs at the front: the form needs
Slack's trigger_id within 3 seconds.

A command declared with organisers' verbs (`SlashCommand.organisers`) is refused here, before its handler runs,
for anyone who is not an organiser. A command (or verb) of a feature the community profile switches off is
answered with one line saying so, whoever types it.

A handler running at the front that has not acked within ACK_BUDGET is acked empty on its behalf (so
Slack does not show an error and bolt does not hand the request to the next matching listener), and
whatever it acks with later is delivered through response_url too.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.slack.context import deps_of
from bot.slack.inbox import FRONT, STAGE_KEY, WORKER
from bot.slack.permissions import is_organizer
from bot.slack.slash import SlashCommand

ACK_BUDGET = 2.0  # seconds; bolt itself gives up at 3


def answered_in_time(
    handler: Callable[..., Awaitable[Any]], declaration: SlashCommand | None = None
) -> Callable[[AsyncArgs], Awaitable[None]]:
    wanted = list(inspect.signature(handler).parameters)

    async def guarded(args: AsyncArgs, ack: Callable[..., Awaitable[None]]) -> None:
        command = args.command or {}
        text = str(command.get("text") or "")
        deps = deps_of(args.context)
        if deps.feature_off(str(command.get("command") or ""), text):
            await ack(response_type="ephemeral", text=deps.texts("help.feature_off"))
            return
        refusal = declaration.refusal_for(text) if declaration else None
        if refusal is not None and not await is_organizer(deps, str(command.get("user_id") or "")):
            await ack(response_type="ephemeral", text=deps.texts(refusal))
            return
        await handler(**{name: (ack if name == "ack" else getattr(args, name)) for name in wanted})

    async def listener(args: AsyncArgs) -> None:
        # At the worker the front acked long ago: every answer goes through response_url.
        late = args.context.get(STAGE_KEY, FRONT) == WORKER
        state = {"acked": late, "late": late}
        gate = asyncio.Lock()
        if late:
            await args.ack()  # tells bolt the listener answered; nothing reaches Slack

        async def ack(text: str | None = None, **kwargs: Any) -> None:
            async with gate:
                if not state["late"]:
                    state["acked"] = True
                    await args.ack(text, **kwargs) if text is not None else await args.ack(**kwargs)
                    return
            payload = {k: v for k, v in {"text": text, **kwargs}.items() if v is not None}
            if payload.get("text") or payload.get("blocks"):
                payload.setdefault("response_type", "ephemeral")
                await args.respond(**payload)

        work = asyncio.ensure_future(guarded(args, ack))
        done, _ = await asyncio.wait({work}, timeout=ACK_BUDGET)
        if not done:
            async with gate:
                if not state["acked"]:
                    state["late"] = True
                    await args.ack()
        await work

    listener.__name__ = handler.__name__
    listener.__qualname__ = handler.__qualname__
    return listener
