"""The short help shown for `/yakuba help` and for any input the bot does not understand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.blocks.common import clip, context, message, section
from bot.texts import Texts


def help_message(
    texts: Texts, names: Iterable[str], *, unknown: str | None = None, organizer: bool = False
) -> dict[str, Any]:
    """Every command (`names`, as the handlers declare them: handlers.COMMANDS); organisers also see theirs
    (the caller asks permissions.is_organizer)."""
    lines = [f"`/{name}` — {texts(f'help.commands.{name}.summary')}" for name in names]
    blocks = []
    if unknown is not None:
        blocks.append(section(texts("help.unknown", text=clip(unknown, 100))))
    blocks.append(section("\n".join(lines)))
    if organizer:
        blocks.append(section(f"{texts('help.organizer.title')}\n{texts('help.organizer.commands')}"))
    blocks.append(context(texts("help.footer")))
    return message(texts("help.title"), blocks)


def usage_message(texts: Texts, command: str) -> dict[str, Any]:
    """One command's usage, for bad input to that command."""
    return message(
        texts("help.usage_title", command=command),
        [
            section(
                texts(
                    "help.usage",
                    command=command,
                    hint=texts(f"help.commands.{command}.hint"),
                    summary=texts(f"help.commands.{command}.summary"),
                )
            )
        ],
    )
