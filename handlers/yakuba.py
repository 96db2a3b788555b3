"""/yakuba: help for everyone, and the organisers' setup commands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.blocks.help import help_message
from bot.context import deps_of


async def on_yakuba(ack, command: dict, context) -> None:
    deps = deps_of(context)
    words = (command.get("text") or "").split()
    if not words or words[0].lower() in deps.texts("help.aliases").split(","):
        await ack(response_type="ephemeral", **help_message(deps.texts))
        return
    await ack(response_type="ephemeral", **help_message(deps.texts, unknown=" ".join(words)))


def register(app: AsyncApp) -> None:
    app.command("/yakuba")(on_yakuba)
