"""Block Kit as terminal text, for the console and the demo: what a member would read in Slack."""

from __future__ import annotations

import html
import re
from typing import Any

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")


def mrkdwn(text: str, names: dict[str, str] | None = None) -> str:
    names = names or {}
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _USER.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or names.get(m.group(1), m.group(1))), text)
    return html.unescape(text)


def _text(obj: Any, names: dict[str, str]) -> str:
    if isinstance(obj, dict):
        return mrkdwn(str(obj.get("text", "")), names)
    return mrkdwn(str(obj or ""), names)


def element(el: dict[str, Any], names: dict[str, str], buttons: list[dict] | None) -> str:
    kind = el.get("type")
    if kind == "button":
        number = ""
        if buttons is not None:
            buttons.append(el)
            number = f"{len(buttons)}:"
        style = {"primary": "✓ ", "danger": "✗ "}.get(el.get("style", ""), "")
        return f"[{number}{style}{_text(el.get('text'), names)}]"
    if kind in ("static_select", "external_select", "multi_static_select", "users_select", "overflow"):
        placeholder = _text(el.get("placeholder"), names) or kind
        if buttons is not None and kind != "overflow":
            buttons.append(el)
            return f"[{len(buttons)}:▼ {placeholder}]"
        return f"[▼ {placeholder}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text(el, names)
    if kind == "image":
        return f"(image: {el.get('alt_text', '')})"
    return f"({kind})"


def blocks(
    items: list[dict[str, Any]] | None, names: dict[str, str] | None = None, buttons: list[dict] | None = None
) -> list[str]:
    """Lines for a list of blocks; interactive elements are numbered into `buttons` when given."""
    names = names or {}
    lines: list[str] = []
    for block in items or []:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"■ {_text(block.get('text'), names)}")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text(block["text"], names).splitlines())
            for field in block.get("fields") or []:
                lines.extend("  " + line for line in _text(field, names).splitlines())
            if block.get("accessory"):
                lines.append("  " + element(block["accessory"], names, buttons))
        elif kind == "context":
            lines.append("  " + " ".join(element(e, names, None) for e in block.get("elements", [])))
        elif kind == "actions":
            lines.append("  " + " ".join(element(e, names, buttons) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("  ───")
        elif kind == "input":
            optional = "" if not block.get("optional") else " (任意/optional)"
            lines.append(f"  ✎ {_text(block.get('label'), names)}{optional}")
        elif kind == "image":
            lines.append(f"  (image: {block.get('alt_text', '')})")
        elif kind == "rich_text":
            lines.append("  (rich text)")
    return lines


def message(
    payload: dict[str, Any], names: dict[str, str] | None = None, buttons: list[dict] | None = None
) -> list[str]:
    """A chat.postMessage-like payload: its blocks, or its text when there are none."""
    if payload.get("blocks"):
        return blocks(payload["blocks"], names, buttons)
    return mrkdwn(str(payload.get("text", "")), names).splitlines()
