"""課 membership: joining and leaving a section's channel, and the 課 a member named when registering."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slack.context import Deps
from storage import members, sections
from storage.models import Section

log = logging.getLogger(__name__)


async def invite(deps: Deps, section: Section, user_id: str) -> bool:
    """Put the member in the section's channel; the bot joins a public channel first when it must."""
    if not section.channel_id:
        return True
    for attempt in range(2):
        try:
            await deps.client.conversations_invite(channel=section.channel_id, users=user_id)
            return True
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error == "already_in_channel":
                return True
            if error == "not_in_channel" and attempt == 0:
                try:
                    await deps.client.conversations_join(channel=section.channel_id)
                    continue
                except SlackApiError as join_exc:
                    error = join_exc.response.get("error")
            log.warning("invite to a section channel failed: %s", error)
            return False
    return False


async def kick(deps: Deps, section: Section, user_id: str) -> None:
    """Leaving a 課 means leaving its channel too; someone already gone is fine."""
    if not section.channel_id:
        return
    try:
        await deps.client.conversations_kick(channel=section.channel_id, user=user_id)
    except SlackApiError as exc:
        if exc.response.get("error") != "not_in_channel":
            log.warning("removal from a section channel failed: %s", exc.response.get("error"))


async def join_interests(deps: Deps, *, team_id: str, user_id: str) -> list[Section]:
    """On approval: the 課 named in the member's registration interests are joined, channels included."""
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if member is None or member.status != "approved" or not member.interests:
        return []
    joined = await sections.join_interests(deps.db, team_id=team_id, user_id=user_id, interests=member.interests)
    for section in joined:
        await invite(deps, section, user_id)
    return joined
