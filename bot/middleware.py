"""Global bolt middleware: hand every listener the Deps. Nothing here touches the database, so acks stay fast."""

from __future__ import annotations

from bot.context import DEPS_KEY, Deps


def install(app, deps: Deps) -> None:
    @app.middleware
    async def provide_deps(context, next):  # noqa: A002 - bolt injects by this name
        context[DEPS_KEY] = deps
        return await next()
