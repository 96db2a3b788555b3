"""/ka: list the 課, join one (and its channel), leave one (and its channel); interests join on approval."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.blocks.common import esc
from bot.blocks.help import usage_message
from bot.blocks.sections import channel_link, list_message, not_found_message
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.slash import SlashCommand
from storage import members, sections
from storage.models import Section

# /ka: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("ka")

log = logging.getLogger(__name__)

MAX_QUERY = 64


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


async def on_ka(ack, command: dict, context, respond) -> None:
    deps = deps_of(context)
    texts, team_id, user_id = deps.texts, context.team_id or deps.team_id, command["user_id"]
    verb, _, rest = (command.get("text") or "").strip().partition(" ")
    verb, name = verb.lower(), rest.strip()
    if verb in ("", "list"):
        await ack(
            response_type="ephemeral", **list_message(texts, await sections.list_with_counts(deps.db, team_id=team_id))
        )
        return
    if verb not in ("join", "leave") or not name or len(name) > MAX_QUERY:
        await ack(response_type="ephemeral", **usage_message(texts, "ka"))
        return
    found = await sections.find(deps.db, team_id=team_id, query=name)
    if found.section is None:
        await ack(response_type="ephemeral", **not_found_message(texts, query=name, suggestions=found.suggestions))
        return
    section = found.section
    if verb == "leave":
        left = await sections.leave(deps.db, team_id=team_id, section_id=section.id, user_id=user_id)
        key = "sections.leave.done" if left else "sections.leave.not_in"
        await ack(response_type="ephemeral", text=texts(key, name=esc(section.name)))
        if left:
            await kick(deps, section, user_id)
        return
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if member is None or member.status != "approved" or member.left_at is not None:
        await ack(response_type="ephemeral", text=texts("sections.join.not_member"))
        return
    await ack()
    link = channel_link(section)
    if not await sections.join(deps.db, team_id=team_id, section_id=section.id, user_id=user_id):
        await invite(deps, section, user_id)  # they may have left the channel by hand: put them back
        text = texts("sections.join.already", name=esc(section.name), channel=link)
        await respond(response_type="ephemeral", text=text)
        return
    invited = await invite(deps, section, user_id)
    key = (
        "sections.join.done"
        if invited and link
        else "sections.join.invite_failed"
        if link
        else "sections.join.done_no_channel"
    )
    await respond(response_type="ephemeral", text=texts(key, name=esc(section.name), channel=link))


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_ka))
