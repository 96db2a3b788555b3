"""/yakuba: help for everyone; its organisers' verbs are answered by their features (`setup prefectures` in
handlers/prefectures.py, `lead` in handlers/leads.py), registered before this catch-all."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.help import help_message
from bot.slack.commands import answered_in_time
from bot.slack.context import deps_of
from bot.slack.permissions import is_organizer
from bot.slack.slash import SlashCommand

# /yakuba: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
# Its organisers' verbs belong to other features (leads, prefectures): handlers.COMMANDS joins their parts to it.
COMMAND = SlashCommand("yakuba")


async def on_yakuba(
    ack: AsyncAck, command: dict, context: AsyncBoltContext, respond: AsyncRespond, client: AsyncWebClient
) -> None:
    deps = deps_of(context)
    words = (command.get("text") or "").split()
    organizer = await is_organizer(deps, command.get("user_id", ""))
    menu = deps.help_menu
    if not words or words[0].lower() in deps.texts("help.aliases").split(","):
        await ack(response_type="ephemeral", **help_message(deps.texts, menu.commands, menu.staff, organizer=organizer))
        return
    await ack(
        response_type="ephemeral",
        **help_message(deps.texts, menu.commands, menu.staff, unknown=" ".join(words), organizer=organizer),
    )


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_yakuba))
