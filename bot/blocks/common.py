"""Building blocks shared by every feature, and the escaping that keeps user text from pinging anyone."""

from __future__ import annotations

import re
from typing import Any

Block = dict[str, Any]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_ROW_ID = re.compile(r"[0-9]{1,9}")  # a 32-bit INTEGER on PostgreSQL


def row_value(row: int) -> str:
    """A database id packed into a button value or private_metadata; its listener reads it back with `row_id`."""
    return str(int(row))


def row_id(value: object) -> int | None:
    """A database id carried by a button value (packed by `row_value`), a command word or private_metadata.

    None for anything else.
    ASCII digits only and at most 9 of them: payloads are user-controllable, and `str.isdigit()` accepts
    "²" and "٣" while 30 digits overflow SQLite and 10 overflow PostgreSQL.
    """
    text = str(value or "").strip()
    return int(text) if _ROW_ID.fullmatch(text) else None


def esc(text: object) -> str:
    """Escape user-supplied text for mrkdwn: `<!channel>`, `<@U…>` and links become inert text."""
    value = _CONTROL.sub("", str(text))
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip(text, 3000)}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, 150), "emoji": True}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None, **extra: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text), "action_id": action_id, **extra}
    if value:
        element["value"] = value
    if style:  # "primary" for confirm, "danger" for reject/cancel (the contract)
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def message(text: str, blocks: list[Block] | None = None, **extra: Any) -> dict[str, Any]:
    """A chat.postMessage payload: `text` is the notification/fallback, blocks the body."""
    payload: dict[str, Any] = {"text": clip(text, 3000), **extra}
    if blocks:
        payload["blocks"] = blocks
    return payload


def notice(text: str) -> dict[str, Any]:
    """A one-line ephemeral answer (the text is already escaped where it carries user input)."""
    return message(text, [section(text)])
