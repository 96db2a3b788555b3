"""Global bolt middleware: hand every listener the Deps; at the front, leave work to the inbox's worker.

Two bolt apps share the handlers (bot/app.py): the front answers Slack, the worker (bot/slack/inbox.py) does the
work of what the front stored. Nothing here touches the database except the front's one batched insert.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.context import DEPS_KEY, Deps
from bot.slack.inbox import FRONT, STAGE_KEY
from bot.slack.slash import opens_form

log = logging.getLogger(__name__)


async def _nowhere_to_respond(*_args, **_kwargs) -> None:
    """`respond()` for a request that carries no response_url (a message button forged inside a modal)."""
    log.info("respond() without a response_url ignored")


def front_door(deps: Deps) -> Callable[..., Awaitable[BoltResponse | None]]:
    """bolt's `before_authorize` at the front: while our team is unknown (Slack unreachable at start), what
    can wait is stored and acked instead of being authorised (auth.test would fail)."""

    async def front_door(body: Any, req, next):  # noqa: A002 - bolt injects by this name
        if not deps.team_id and deps.inbox.holding and (held := _holdable(deps, body)) is not None:
            await deps.inbox.store(held[0], held[1], req)
            return BoltResponse(status=200, body="")
        return await next()

    return front_door


def _holdable(deps: Deps, body: Any) -> tuple[str, str] | None:
    """What waits for our team while Slack is unreachable: events, and slash commands that open no form
    (answered through response_url later). Buttons, forms and menus need their answer in the ack."""
    if not isinstance(body, dict):
        return None
    if body.get("type") == "event_callback":
        return "event", str(body.get("event_id") or "")
    command = body.get("command")
    if (
        isinstance(command, str)
        and "type" not in body
        and not opens_form(deps.commands, command, str(body.get("text") or ""))
    ):
        return "command", str(body.get("trigger_id") or "")
    return None


def install(app: AsyncApp, deps: Deps, *, stage: str = FRONT) -> None:
    @app.middleware
    async def provide_deps(
        req: AsyncBoltRequest,
        context: AsyncBoltContext,
        body: dict,
        next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002
    ) -> BoltResponse:
        context[DEPS_KEY] = deps
        context[STAGE_KEY] = stage
        # bolt's respond() raises when Slack sent no response_url; a hand-made payload must not turn into
        # an exception (and a 3-second wait for an ack that never comes): answer it with silence instead.
        if isinstance(body, dict) and body.get("type") == "block_actions" and not body.get("response_url"):
            context["respond"] = _nowhere_to_respond
        if stage != FRONT:
            return await next()
        inbox = deps.inbox
        inbox.entering()
        try:
            kind = _deferrable(deps, body) if inbox.running else None
            if kind is None:
                return await next()
            key = body.get("event_id") if kind == "event" else body.get("trigger_id")
            await inbox.store(kind, str(key or ""), req)
            return BoltResponse(status=200, body="")
        finally:
            inbox.leaving()


def _deferrable(deps: Deps, body) -> str | None:
    """What the front acks empty and leaves to the worker: every event; a slash command that opens no form,
    while the server is busy (or always, when so configured)."""
    if not isinstance(body, dict):
        return None
    if body.get("type") == "event_callback":
        return "event"
    command = body.get("command")
    if not isinstance(command, str) or "type" in body:
        return None
    if opens_form(deps.commands, command, str(body.get("text") or "")):
        return None
    if deps.settings.yakuba_defer_commands == "always" or deps.inbox.busy():
        return "command"
    return None
