"""The short help shown for `/yakuba help` and for any input the bot does not understand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.blocks.common import clip, context, message, section
from bot.texts import Texts


def help_message(
    texts: Texts,
    commands: Iterable[tuple[str, str]],
    staff: Iterable[str] = (),
    *,
    unknown: str | None = None,
    organizer: bool = False,
) -> dict[str, Any]:
    """Every command the community keeps on, as (name, summary key) from the handlers' declarations
    (Deps.help_menu); organisers also see the `staff` lines (the caller asks permissions.is_organizer)."""
    lines = [f"`/{name}` — {texts(summary)}" for name, summary in commands]
    blocks = []
    if unknown is not None:
        blocks.append(section(texts("help.unknown", text=clip(unknown, 100))))
    blocks.append(section("\n".join(lines)))
    if organizer:
        blocks.append(section("\n".join([texts("help.organizer.title"), *(texts(key) for key in staff)])))
    blocks.append(context(texts("help.footer")))
    return message(texts("help.title"), blocks)


def usage_message(texts: Texts, command: str, keys: tuple[str, str] | None = None) -> dict[str, Any]:
    """One command's usage, for bad input to that command; `keys`: its (summary, hint) keys when a profile
    switches one of its verbs off (Deps.usage_keys)."""
    summary, hint = keys or (f"help.commands.{command}.summary", f"help.commands.{command}.hint")
    return message(
        texts("help.usage_title", command=command),
        [
            section(
                texts(
                    "help.usage",
                    command=command,
                    hint=texts(hint),
                    summary=texts(summary),
                )
            )
        ],
    )
