"""Slack mrkdwn safety: the one escape for user text, the marker for text already safe, the one clip.

Every catalogue parameter is escaped by `Texts` unless it is `Mrkdwn` (the catalogue's own output, or a
fragment the bot built from escaped parts and marked with `safe`). Forgetting to escape therefore shows
a harmless `&amp;` at worst, never a `<!channel>` ping or a disguised link.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

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


# Splitting long text: one unit that is never split is a `<…>` link or mention, an `&…;` entity, else one
# character. A section holds 3,000 characters of mrkdwn and a text input 3,000 characters, while an FAQ answer
# may be longer (storage.faqs.LIMITS): `spans` measures pieces after rendering (escaping makes `&` five
# characters), prefers line ends, and cuts a single over-long line after punctuation when it can.
_UNIT = re.compile(r"<[^<>\n]*>|&(?:[A-Za-z]+|#[0-9]+);|.", re.S)
_SOFT = frozenset("。．.、，,！!？? 　")  # inside a line too long, cut after these when one is near
_LOOK_BACK = 200  # how far back from the limit a soft cut is looked for


def spans(text: str, limit: int, cost: Callable[[str], int] = len) -> list[tuple[int, int]]:
    """(start, end) of consecutive pieces of `text`, each costing at most `limit` (a unit alone may cost more).

    A cut at a line end drops that one newline, so joining such pieces with "\\n" gives back the text (less
    a trailing newline: callers pass stripped text); `cut_inside` says whether any cut fell inside a line.
    """
    units = [(m.start(), m.end(), cost(m.group())) for m in _UNIT.finditer(text)]
    out: list[tuple[int, int]] = []
    i, n = 0, len(units)
    while i < n:
        total, j, line_end = 0, i, None
        while j < n:
            start, end, c = units[j]
            if text[start:end] == "\n" and j > i:
                line_end = j  # cutting here keeps everything before this newline
            if total + c > limit:
                break
            total += c
            j += 1
        if j == n:
            out.append((units[i][0], len(text)))
            break
        if line_end is not None:
            out.append((units[i][0], units[line_end][0]))
            i = line_end + 1
            continue
        j = max(j, i + 1)  # a single unit over the limit still goes somewhere
        soft = next(
            (k + 1 for k in range(j - 1, max(i, j - _LOOK_BACK), -1) if text[units[k][0] : units[k][1]] in _SOFT),
            j,
        )
        out.append((units[i][0], units[soft - 1][1]))
        i = soft
        if i < n and text[units[i][0] : units[i][1]] == "\n":
            i += 1  # the piece happened to end a line: that newline is the cut
    return out


def pieces(text: str, limit: int, cost: Callable[[str], int] = len) -> list[str]:
    return [text[s:e] for s, e in spans(text, limit, cost)]


def cut_inside(text: str, cuts: list[tuple[int, int]]) -> bool:
    """Whether a cut fell inside a line (then joining the pieces with newlines would add one)."""
    return any(end < len(text) and text[end] != "\n" for _, end in cuts[:-1])


def split(text: Mrkdwn, limit: int) -> list[Mrkdwn]:
    """Mrkdwn in pieces of at most `limit` characters, cut at a line end when one is near, never inside an
    entity or a `<…>` token; blank pieces are dropped (Slack refuses a section with empty text)."""
    return [Mrkdwn(p.lstrip("\n")) for p in pieces(text, limit) if p.strip()]
