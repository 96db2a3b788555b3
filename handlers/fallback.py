"""Catch-alls, registered last: unknown input gets a short ephemeral help, never an error or a retry storm."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.blocks.help import help_message
from bot.slack.context import deps_of

log = logging.getLogger(__name__)
ANY = re.compile(r".*")


async def on_any_command(ack: AsyncAck, command: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    text = f"{command.get('command', '')} {command.get('text', '')}".strip()
    menu = deps.help_menu
    await ack(response_type="ephemeral", **help_message(deps.texts, menu.commands, menu.staff, unknown=text))


async def ack_only(ack: AsyncAck) -> None:
    await ack()


async def on_any_options(ack: AsyncAck) -> None:
    await ack(options=[])


async def ignore_event() -> None:
    """Subscribed events nobody handles still get a 200, so Slack does not retry them."""


async def on_error(error: Exception, body: dict, respond: AsyncRespond | None = None) -> None:
    # Type and kind only: bodies carry names and messages, which never go to logs.
    kind = body.get("type") if isinstance(body, dict) else None
    log.error("listener failed on %s: %s", kind, type(error).__name__, exc_info=error)


def register(app: AsyncApp) -> None:
    app.command(ANY)(on_any_command)
    app.action(ANY)(ack_only)
    app.view(ANY)(ack_only)
    app.view_closed(ANY)(ack_only)
    app.shortcut(ANY)(ack_only)
    app.options(ANY)(on_any_options)
    app.event(ANY)(ignore_event)
    app.error(on_error)
