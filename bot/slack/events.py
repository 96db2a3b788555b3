"""Once per event: a listener wrapped here claims the event_id (seen_events) after the ack, before its work.

The claim is a database write, so it runs after bolt has acked: Slack sees a fast 200 and a retry
(X-Slack-Retry-Num) or a concurrent duplicate delivery finds the id taken and does nothing.

Because the 200 is already sent, Slack will not retry an event we fail to process: when the database is
briefly locked or unreachable, the claim and the handler are tried again here for a while (the
handlers' writes are keyed, so a second attempt cannot double anything).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.kwargs_injection.async_args import AsyncArgs
from sqlalchemy.exc import DBAPIError, InterfaceError

from bot.slack.context import deps_of
from storage import seen_events

log = logging.getLogger(__name__)

# Database outages an event outlives: about a minute in growing steps (0.5, 1, 2, 4, 8, 15, 15, 15 s).
DB_RETRY_DELAYS = (0.5, 1, 2, 4, 8, 15, 15, 15)


def database_unavailable(exc: BaseException) -> bool:
    """A locked, restarting or unreachable database (not a bad statement): worth waiting for."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        return (
            exc.connection_invalidated
            or isinstance(exc, InterfaceError | OSError)
            or isinstance(orig, OSError)
            or "locked" in str(orig)  # SQLite: busy beyond busy_timeout
        )
    return isinstance(exc, OSError)


def once_per_event(handler: Callable[..., Awaitable[Any]]) -> Callable[[AsyncArgs], Awaitable[None]]:
    wanted = list(inspect.signature(handler).parameters)

    async def listener(args: AsyncArgs) -> None:
        body = args.body if isinstance(args.body, dict) else {}
        deps = deps_of(args.context)
        event_id = str(body.get("event_id") or "")
        event_type = str((body.get("event") or {}).get("type") or "?")
        team_id = str(body.get("team_id") or args.context.team_id or deps.team_id)
        claimed = not event_id
        for delay in (*DB_RETRY_DELAYS, None):
            try:
                if not claimed:
                    if not await seen_events.claim(deps.db, team_id=team_id, event_id=event_id, event_type=event_type):
                        log.info("duplicate event %s (%s) ignored", event_id, event_type)
                        return
                    claimed = True
                await handler(**{name: getattr(args, name) for name in wanted})
                return
            except Exception as exc:
                if delay is None or not database_unavailable(exc):
                    raise
                log.warning("event %s (%s) waits for the database: %s", event_id, event_type, type(exc).__name__)
                await asyncio.sleep(delay)

    listener.__name__ = handler.__name__
    listener.__qualname__ = handler.__qualname__
    return listener
