"""The short help shown for `/yakuba help` and for any input the bot does not understand."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import context, esc, message, section
from bot.texts import Texts

# Every slash command of the contract, in the order members meet them.
COMMANDS = (
    "register",
    "faq",
    "archive",
    "programs",
    "kenjinkai",
    "ka",
    "members",
    "announce",
    "approvals",
    "mydata",
    "yakuba",
)


def help_message(texts: Texts, *, unknown: str | None = None, organizer: bool = False) -> dict[str, Any]:
    """Everyone's commands; organisers also see theirs (the caller asks permissions.is_organizer)."""
    lines = [f"`/{name}` — {texts(f'help.commands.{name}.summary')}" for name in COMMANDS]
    blocks = []
    if unknown is not None:
        blocks.append(section(texts("help.unknown", text=esc(unknown[:100]))))
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
