"""Global bolt middleware: hand every listener the Deps. Nothing here touches the database, so acks stay fast."""

from __future__ import annotations

import logging

from bot.context import DEPS_KEY, Deps

log = logging.getLogger(__name__)


async def _nowhere_to_respond(*_args, **_kwargs) -> None:
    """`respond()` for a request that carries no response_url (a message button forged inside a modal)."""
    log.info("respond() without a response_url ignored")


def install(app, deps: Deps) -> None:
    @app.middleware
    async def provide_deps(context, body, next):  # noqa: A002 - bolt injects by this name
        context[DEPS_KEY] = deps
        # bolt's respond() raises when Slack sent no response_url; a hand-made payload must not turn into
        # an exception (and a 3-second wait for an ack that never comes): answer it with silence instead.
        if isinstance(body, dict) and body.get("type") == "block_actions" and not body.get("response_url"):
            context["respond"] = _nowhere_to_respond
        return await next()
