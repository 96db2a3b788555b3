"""Building blocks shared by every feature, and the escaping that keeps user text from pinging anyone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Builders import the escape, the clip and the marker from here; the catalogue (a leaf) owns them.
from bot.texts.markup import Mrkdwn, clip, join, safe, unescape  # noqa: F401
from bot.texts.markup import escape as esc  # noqa: F401

Block = dict[str, Any]
SECTION_LIMIT = 3000  # Slack's limit for a section's text
MESSAGE_BLOCKS = 50  # Slack refuses a message of more blocks whole (invalid_blocks)

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


def mrkdwn(text: str, limit: int = SECTION_LIMIT) -> dict[str, str]:
    """A mrkdwn text object; whatever reaches it is mrkdwn, so a clip never cuts a link or an entity."""
    return {"type": "mrkdwn", "text": clip(safe(text), limit)}


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    """A plain_text object: catalogue output (mrkdwn) shows the characters its entities stand for."""
    shown = unescape(text) if isinstance(text, Mrkdwn) else text
    return {"type": "plain_text", "text": clip(shown, limit), "emoji": True}


def section(text: str, **extra: Any) -> Block:
    """A section; Slack refuses one with empty text (invalid_blocks), so blank text becomes a dash."""
    return {"type": "section", "text": mrkdwn(text if text.strip() else "-"), **extra}


def sections(lines: Iterable[str], limit: int = 2800) -> list[Block]:
    """Lines packed into as few sections as fit `limit` characters each; a longer line is clipped alone."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        line = clip(safe(line), limit)
        if chunk and size + 1 + len(line) > limit:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        size += len(line) + (1 if chunk else 0)
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None, **extra: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(text, 75), "action_id": action_id, **extra}
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
    payload: dict[str, Any] = {"text": clip(safe(text), 3000), **extra}
    if blocks:
        payload["blocks"] = blocks
    return payload


def notice(text: str) -> dict[str, Any]:
    """A one-line ephemeral answer (the text is already escaped where it carries user input)."""
    return message(text, [section(text)])
