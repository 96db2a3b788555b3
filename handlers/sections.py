"""/ka: list the 課, join one (and its channel), leave one (and its channel); interests join on approval."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.blocks.help import usage_message
from bot.blocks.sections import channel_link, list_message, not_found_message
from bot.services.sections import invite, kick
from bot.slack.commands import answered_in_time
from bot.slack.context import deps_of
from bot.slack.slash import SlashCommand
from storage import members, sections

# /ka: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("ka", feature="sections")

log = logging.getLogger(__name__)

MAX_QUERY = 64


async def on_ka(ack: AsyncAck, command: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
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
        await ack(response_type="ephemeral", text=texts(key, name=section.name))
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
        text = texts("sections.join.already", name=section.name, channel=link)
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
    await respond(response_type="ephemeral", text=texts(key, name=section.name, channel=link))


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_ka))
