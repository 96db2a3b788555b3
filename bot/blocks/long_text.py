"""Long organiser text within Slack's limits: cut at line ends, never inside a link, a mention or an entity.

A section holds 3,000 characters of mrkdwn and a text input 3,000 characters, while an FAQ answer may be
longer (storage.faqs.LIMITS). `spans` cuts a text into pieces that each measure at most `limit` — measured
after rendering, because escaping makes `&` five characters — preferring line ends; only a single line
longer than the limit is cut inside, after punctuation when it can, and always between whole units.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# One unit that is never split: a `<…>` link or mention, an `&…;` entity, else one character.
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
