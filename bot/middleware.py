"""Global bolt middleware: hand every listener the Deps, and let each Slack event_id through once."""

from __future__ import annotations

import logging

from slack_bolt.response import BoltResponse

from bot.context import DEPS_KEY, Deps
from storage import events

log = logging.getLogger(__name__)


def install(app, deps: Deps) -> None:
    @app.middleware
    async def provide_deps(context, body, next):  # noqa: A002 - bolt injects by this name
        context[DEPS_KEY] = deps
        if isinstance(body, dict) and body.get("type") == "event_callback":
            event_id = str(body.get("event_id") or "")
            event_type = str((body.get("event") or {}).get("type") or "?")
            team_id = str(body.get("team_id") or context.team_id or deps.team_id)
            # Claimed before any work: a retry that arrives while the first delivery still runs is dropped.
            if event_id and not await events.claim(deps.db, team_id=team_id, event_id=event_id, event_type=event_type):
                log.info("duplicate event %s (%s) ignored", event_id, event_type)
                return BoltResponse(status=200, body="")
        return await next()
