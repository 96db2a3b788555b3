"""/yakuba: help for everyone, and the organisers' setup commands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.blocks.help import help_message
from bot.commands import answered_in_time
from bot.context import deps_of
from bot.permissions import is_organizer
from handlers import leads, prefectures


async def on_yakuba(ack, command: dict, context, respond, client) -> None:
    deps = deps_of(context)
    words = (command.get("text") or "").split()
    organizer = await is_organizer(deps, command.get("user_id", ""))
    if not words or words[0].lower() in deps.texts("help.aliases").split(","):
        await ack(response_type="ephemeral", **help_message(deps.texts, organizer=organizer))
        return
    if words[0].lower() == "setup" and words[1:2] == ["prefectures"]:  # membership (#3), organisers only
        await prefectures.on_setup_prefectures(ack, command, context, respond)
        return
    if words[0].lower() == "lead":  # appoint or release a prefecture lead, organisers only
        await leads.open_lead_form(ack, command, context, client)
        return
    await ack(response_type="ephemeral", **help_message(deps.texts, unknown=" ".join(words), organizer=organizer))


def register(app: AsyncApp) -> None:
    app.command("/yakuba")(answered_in_time(on_yakuba))
