"""Onboarding: a new member joins the workspace and gets one warm welcome DM, exactly once."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.blocks.onboarding import welcome_message
from bot.services import events
from bot.slack.context import deps_of
from bot.slack.events import once_per_event
from storage import members, outbox

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


async def on_team_join(event: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    user = event.get("user") or {}
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not USER_ID.match(user_id) or user.get("is_bot") or user.get("deleted"):
        return
    team_id = context.team_id or deps.team_id
    payload = welcome_message(deps.texts, community=deps.community_name, profile=deps.community)
    payload = await events.with_next_setsumeikai(deps, payload, team_id=team_id)
    async with deps.db.write() as session:
        await members.join(session, team_id=team_id, user_id=user_id)
        # Keyed by the person, not the event: Slack may re-send a join under a new event_id.
        await outbox.enqueue(
            session, team_id=team_id, key=f"welcome:{user_id}", kind="dm", target=user_id, payload=payload
        )
    deps.outbox.kick()


def register(app: AsyncApp) -> None:
    app.event("team_join")(once_per_event(on_team_join))
