"""Block Kit and shared files as terminal text, for the console and the demo: what a member would read in Slack.

Lines are rich `Text`: bold stays bold on a terminal, and `str(line)` is the same line without styles (what a
pipe, a file or a test reads). Nothing here depends on the terminal's width.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from rich.console import Console
from rich.emoji import Emoji
from rich.text import Text

from bot.texts import Texts

WIDTH = 100  # the demo and the console lay out for this many columns, whatever the terminal says

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+\|)?([^>|^]+)(?:\^[^>|]*)?(?:\|([^>]*))?>")
# Slack's emphasis: the marker must touch the words it wraps and must not sit inside an ASCII word.
_STYLES = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|(?<![A-Za-z0-9*])\*(?P<bold>[^*\s](?:[^*\n]*[^*\s])?)\*(?![A-Za-z0-9*])"
    r"|(?<![A-Za-z0-9_])_(?P<italic>[^_\s](?:[^_\n]*[^_\s])?)_(?![A-Za-z0-9_])"
    r"|(?<![A-Za-z0-9~])~(?P<strike>[^~\s](?:[^~\n]*[^~\s])?)~(?![A-Za-z0-9~])"
)
_STYLE_OF = {"code": "cyan", "bold": "bold", "italic": "italic", "strike": "strike"}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SHOWN_ITEMS = 3  # items of a list in a shared file shown before "… N more"


def _references(text: str, names: dict[str, str]) -> str:
    """Links, mentions and channel references as a reader sees them (still HTML-escaped)."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _USER.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or names.get(m.group(1), m.group(1))), text)
    return _SPECIAL.sub(lambda m: m.group(2) or "@" + m.group(1), text)


def _quote(text: str) -> str:
    # A quote is a ">" the sender wrote raw at a line's start; an escaped "&gt;" is the character itself.
    return "\n".join("▎ " + line[1:].lstrip() if line.startswith(">") else line for line in text.split("\n"))


def styled(text: str, names: dict[str, str] | None = None) -> Text:
    """One mrkdwn string as styled text: emphasis as styles, links as text, entities and emoji codes resolved."""
    source = _quote(_references(text, names or {}))
    out = Text()
    at = 0
    for match in _STYLES.finditer(source):
        out.append(Emoji.replace(html.unescape(source[at : match.start()])))
        kind = match.lastgroup or "code"
        inner = html.unescape(match.group(kind))
        out.append(inner if kind == "code" else Emoji.replace(inner), style=_STYLE_OF[kind])
        at = match.end()
    out.append(Emoji.replace(html.unescape(source[at:])))
    return out


def mrkdwn(text: str, names: dict[str, str] | None = None) -> str:
    """One mrkdwn string as plain text (labels, prompts): no markers, no entities."""
    return styled(text, names).plain


def _text(obj: Any, names: dict[str, str]) -> Text:
    if isinstance(obj, dict):
        return styled(str(obj.get("text", "")), names)
    return styled(str(obj or ""), names)


def _lines(text: Text) -> list[Text]:
    return list(text.split("\n"))


def optional_marker(texts: Texts | None) -> str:
    """The one marker every optional form field gets, in the console's prompts and the demo's forms."""
    return texts("console.optional") if texts is not None else ""


def element(el: dict[str, Any], names: dict[str, str], buttons: list[dict] | None) -> Text:
    kind = el.get("type")
    if kind == "button":
        number = ""
        if buttons is not None:
            buttons.append(el)
            number = f"{len(buttons)}:"
        style = {"primary": "✓ ", "danger": "✗ "}.get(el.get("style", ""), "")
        return Text.assemble(f"[{number}{style}", _text(el.get("text"), names), "]")
    if kind in ("static_select", "external_select", "multi_static_select", "users_select", "overflow"):
        placeholder = _text(el.get("placeholder"), names) if el.get("placeholder") else Text("…")
        if buttons is not None and kind != "overflow":
            buttons.append(el)
            return Text.assemble(f"[{len(buttons)}:▼ ", placeholder, "]")
        return Text.assemble("[▼ ", placeholder, "]")
    if kind in ("mrkdwn", "plain_text"):
        return _text(el, names)
    if kind == "image":
        return Text(f"🖼 {el.get('alt_text', '')}")
    return Text("")


def blocks(
    items: list[dict[str, Any]] | None,
    names: dict[str, str] | None = None,
    buttons: list[dict] | None = None,
    *,
    texts: Texts | None = None,
) -> list[Text]:
    """Lines for a list of blocks; interactive elements are numbered into `buttons` when given."""
    names = names or {}
    lines: list[Text] = []
    for block in items or []:
        kind = block.get("type")
        if kind == "header":
            lines.append(Text.assemble("■ ", _text(block.get("text"), names), style="bold"))
        elif kind == "section":
            if block.get("text"):
                lines.extend(_lines(_text(block["text"], names)))
            for field in block.get("fields") or []:
                lines.extend(Text.assemble("  ", line) for line in _lines(_text(field, names)))
            if block.get("accessory"):
                lines.append(Text.assemble("  ", element(block["accessory"], names, buttons)))
        elif kind in ("context", "actions"):
            shown = [element(e, names, buttons if kind == "actions" else None) for e in block.get("elements", [])]
            lines.append(Text.assemble("  ", Text(" ").join(s for s in shown if s.plain)))
        elif kind == "divider":
            lines.append(Text("  ───"))
        elif kind == "input":
            optional = optional_marker(texts) if block.get("optional") else ""
            lines.append(Text.assemble("  ✎ ", _text(block.get("label"), names), optional))
        elif kind == "image":
            lines.append(Text(f"  🖼 {block.get('alt_text', '')}"))
    return lines


def message(
    payload: dict[str, Any],
    names: dict[str, str] | None = None,
    buttons: list[dict] | None = None,
    *,
    texts: Texts | None = None,
) -> list[Text]:
    """A chat.postMessage-like payload: its blocks, or its text when there are none."""
    if payload.get("blocks"):
        return blocks(payload["blocks"], names, buttons, texts=texts)
    return _lines(styled(str(payload.get("text", "")), names))


# ------------------------------------------------------------------------------------------ shared files
def _value(value: Any, names: dict[str, str], tz: tzinfo, texts: Texts) -> str:
    """A field of a shared file as a reader wants it: local times, people by name, short text on one line."""
    if isinstance(value, bool):
        return texts("console.file.yes" if value else "console.file.no")
    if isinstance(value, str) and _ISO.match(value):
        try:
            return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if isinstance(value, str) and value in names:
        return ("@" if value[:1] in "UW" else "#") + names[value]
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v, names, tz, texts)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, list):
        return ", ".join(_value(v, names, tz, texts) for v in value)
    flat = " ".join(str(value).split())
    return flat if len(flat) <= 60 else flat[:59] + "…"


def _record(row: dict[str, Any], names: dict[str, str], tz: tzinfo, texts: Texts) -> str:
    return " · ".join(f"{k}: {_value(v, names, tz, texts)}" for k, v in row.items() if v not in (None, "", [], {}))


def _listing(items: list[Any], names: dict[str, str], tz: tzinfo, texts: Texts, indent: str) -> list[str]:
    lines = [
        indent + "· " + (_record(item, names, tz, texts) if isinstance(item, dict) else _value(item, names, tz, texts))
        for item in items[:SHOWN_ITEMS]
    ]
    if len(items) > SHOWN_ITEMS:
        lines.append(indent + texts("console.file.more", count=len(items) - SHOWN_ITEMS))
    return lines


def _json_summary(data: Any, names: dict[str, str], tz: tzinfo, texts: Texts) -> list[str]:
    if not isinstance(data, dict):
        return _listing(data if isinstance(data, list) else [data], names, tz, texts, "")
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(
                f"  {k}: {_value(v, names, tz, texts)}" for k, v in value.items() if v not in (None, "", [], {})
            )
        elif isinstance(value, list):
            lines.append(f"{key}{texts('console.file.count', count=len(value))}")
            lines.extend(_listing(value, names, tz, texts, "  "))
        else:
            lines.append(f"{key}: {_value(value, names, tz, texts) if value is not None else '—'}")
    return lines


def file_lines(name: str, content: bytes | None, names: dict[str, str], *, tz: tzinfo, texts: Texts) -> list[Text]:
    """A shared file: its name, then its content as a reader would skim it (JSON by section, CSV by row)."""
    header = Text.assemble("📎 ", (name, "bold"))
    body = (content or b"").decode("utf-8-sig", errors="replace")
    lines: list[str]
    if name.endswith(".json"):
        try:
            lines = _json_summary(json.loads(body), names, tz, texts)
        except ValueError:
            lines = [texts("console.file.unreadable")]
    elif name.endswith(".csv"):
        rows = list(csv.DictReader(io.StringIO(body)))
        lines = [texts("console.file.rows", count=len(rows)), *_listing(rows, names, tz, texts, "")]
    else:
        lines = [texts("console.file.binary", size=len(content or b""))]
    return [header, *(Text("  " + line) for line in lines)]


def terminal(width: int = WIDTH) -> Callable[[str | Text], None]:
    """A printer for the demo and the console: styles on a terminal, plain text in a pipe, never wrapped."""
    console = Console(width=width, highlight=False, markup=False, emoji=False, soft_wrap=True)

    def printer(line: str | Text) -> None:
        console.print(line if isinstance(line, Text) else Text(line))

    return printer
