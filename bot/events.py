"""Once per event: a listener wrapped here claims the event_id (seen_events) after the ack, before its work.

The claim is a database write, so it runs after bolt has acked: Slack sees a fast 200 and a retry
(X-Slack-Retry-Num) or a concurrent duplicate delivery finds the id taken and does nothing.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.context import deps_of
from storage import events

log = logging.getLogger(__name__)


def once_per_event(handler: Callable[..., Awaitable[Any]]) -> Callable[[AsyncArgs], Awaitable[None]]:
    wanted = list(inspect.signature(handler).parameters)

    async def listener(args: AsyncArgs) -> None:
        body = args.body if isinstance(args.body, dict) else {}
        deps = deps_of(args.context)
        event_id = str(body.get("event_id") or "")
        if event_id:
            event_type = str((body.get("event") or {}).get("type") or "?")
            team_id = str(body.get("team_id") or args.context.team_id or deps.team_id)
            if not await events.claim(deps.db, team_id=team_id, event_id=event_id, event_type=event_type):
                log.info("duplicate event %s (%s) ignored", event_id, event_type)
                return
        await handler(**{name: getattr(args, name) for name in wanted})

    listener.__name__ = handler.__name__
    listener.__qualname__ = handler.__qualname__
    return listener
