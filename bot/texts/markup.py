"""Slack mrkdwn safety: the one escape for user text, the marker for text already safe, the one clip.

Every catalogue parameter is escaped by `Texts` unless it is `Mrkdwn` (the catalogue's own output, or a
fragment the bot built from escaped parts and marked with `safe`). Forgetting to escape therefore shows
a harmless `&amp;` at worst, never a `<!channel>` ping or a disguised link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
# What a clip must not cut in half: an entity, or a Slack token such as <#C…>, <@U…>, <https://…|label>.
_ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>\n]{1,3000}>")
ELLIPSIS = "…"


class Mrkdwn(str):
    """Text that is already mrkdwn: written by the bot, any user text inside it escaped."""

    __slots__ = ()


def escape(text: object) -> Mrkdwn:
    """User text as inert mrkdwn: `<!channel>`, `<@U…>` and links become visible characters."""
    if isinstance(text, Mrkdwn):
        return text
    value = _CONTROL.sub("", str(text))
    return Mrkdwn(value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def safe(text: str) -> Mrkdwn:
    """Mark text the bot built itself (links to channels, user mentions, escaped parts) as mrkdwn."""
    return text if isinstance(text, Mrkdwn) else Mrkdwn(text)


def join(separator: str, parts: Iterable[object]) -> Mrkdwn:
    """Join mrkdwn fragments; a part that is not yet `Mrkdwn` is escaped first."""
    return Mrkdwn(escape(separator).join(escape(p) for p in parts))


def unescape(text: str) -> str:
    """The exact inverse of `escape` (one pass, so an escaped "&lt;" the user typed stays "&lt;")."""
    return _ENTITY.sub(lambda m: _UNESCAPED[m.group(1)], text)


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…" when shortened. Clip user text before escaping
    it; a `Mrkdwn` text is never cut inside an entity or a `<…>` token (the cut moves to before it)."""
    if len(text) <= limit:
        return text
    cut = max(limit - len(ELLIPSIS), 0)
    if not isinstance(text, Mrkdwn):
        return text[:cut] + ELLIPSIS
    for atom in _ATOM.finditer(text, max(cut - 3002, 0), min(cut + 3002, len(text))):
        if atom.start() < cut < atom.end():
            cut = atom.start()
            break
        if atom.start() >= cut:
            break
    return Mrkdwn(text[:cut] + ELLIPSIS)


def split(text: Mrkdwn, limit: int) -> list[Mrkdwn]:
    """Mrkdwn in pieces of at most `limit` characters, cut at a line end when one is near, never inside an
    entity or a `<…>` token; blank pieces are dropped (Slack refuses a section with empty text)."""
    pieces: list[Mrkdwn] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = len(clip(text, limit + len(ELLIPSIS))) - len(ELLIPSIS)
            if cut <= 0:  # one token longer than a piece: Slack could not show it whole anyway
                cut = limit
        pieces.append(Mrkdwn(text[:cut]))
        text = Mrkdwn(text[cut:].lstrip("\n"))
    pieces.append(text)
    return [p for p in pieces if p.strip()]
