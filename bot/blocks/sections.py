"""/ka: the list of 課 by kind with member counts, and the replies to join and leave."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import context, divider, esc, header, message, section
from bot.texts import Texts
from storage.models import Section
from storage.sections import KINDS, Listed

MAX_SUGGESTIONS = 3


def channel_link(section: Section) -> str:
    return f"<#{section.channel_id}>" if section.channel_id else ""


def list_message(texts: Texts, listed: list[Listed]) -> dict[str, Any]:
    title = texts("sections.list.title")
    if not listed:
        return message(title, [section(texts("sections.list.empty"))])
    blocks = [header(title), context(texts("sections.list.intro"))]
    for kind in KINDS:
        rows = [x for x in listed if x.section.kind == kind]
        if not rows:
            continue
        lines = [
            texts(
                "sections.list.line",
                name=esc(x.section.name),
                count=x.members,
                channel=f" {channel_link(x.section)}" if x.section.channel_id else "",
                description=esc(x.section.description.strip().splitlines()[0] if x.section.description else ""),
            )
            for x in rows
        ]
        blocks.append(divider())
        blocks.append(section(texts("sections.list.kind", kind=texts(f"sections.kinds.{kind}"))))
        # A section block holds at most 3,000 characters: long kinds continue in further blocks.
        chunk: list[str] = []
        for line in lines:
            if sum(len(c) + 1 for c in chunk) + len(line) > 2800:
                blocks.append(section("\n".join(chunk)))
                chunk = []
            chunk.append(line)
        blocks.append(section("\n".join(chunk)))
    blocks.append(context(texts("sections.list.footer")))
    return message(title, blocks[:50])


def not_found_message(texts: Texts, *, query: str, suggestions: list[Section]) -> dict[str, Any]:
    lines = [texts("sections.join.not_found", query=esc(query[:64]))]
    if suggestions:
        names = texts("sections.join.separator").join(f"*{esc(s.name)}*" for s in suggestions[:MAX_SUGGESTIONS])
        lines.append(texts("sections.join.suggestions", names=names))
    lines.append(texts("sections.join.see_list"))
    return message(lines[0], [section("\n".join(lines))])
