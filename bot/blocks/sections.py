"""/ka: the list of 課 by kind with member counts, and the replies to join and leave."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import Mrkdwn, clip, context, divider, esc, header, join, message, safe, section, sections
from bot.texts import Texts
from storage.models import Section
from storage.sections import KINDS, Listed

MAX_SUGGESTIONS = 3


def channel_link(section: Section) -> Mrkdwn:
    return safe(f"<#{esc(section.channel_id)}>" if section.channel_id else "")


def first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


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
                name=x.section.name,
                count=x.members,
                channel=safe(f" {channel_link(x.section)}") if x.section.channel_id else "",
                description=clip(first_line(x.section.description), 300),
            )
            for x in rows
        ]
        blocks.append(divider())
        blocks.append(section(texts("sections.list.kind", kind=texts(f"sections.kinds.{kind}"))))
        # A section block holds at most 3,000 characters: long kinds continue in further blocks.
        blocks += sections(lines)
    blocks.append(context(texts("sections.list.footer")))
    return message(title, blocks[:50])


def not_found_message(texts: Texts, *, query: str, suggestions: list[Section]) -> dict[str, Any]:
    lines = [texts("sections.join.not_found", query=clip(query, 64))]
    if suggestions:
        names = join(
            texts("sections.join.separator"), (safe(f"*{esc(s.name)}*") for s in suggestions[:MAX_SUGGESTIONS])
        )
        lines.append(texts("sections.join.suggestions", names=names))
    lines.append(texts("sections.join.see_list"))
    return message(lines[0], [section("\n".join(lines))])
