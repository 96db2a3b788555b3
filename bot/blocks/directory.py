"""/members stats and /kenjinkai members: figures and lists as Block Kit."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import context, header, message, section
from bot.texts import Texts
from storage.data import municipality, prefecture
from storage.directory import GOVERNMENT_KINDS, Listed, Stats

TOP_PREFECTURES = 10


def summary(texts: Texts, stats: Stats) -> str:
    return texts("directory.stats.summary", members=f"{stats.members:,}", governments=f"{stats.governments:,}")


def stats_message(texts: Texts, stats: Stats, *, map_on: bool = True) -> dict[str, Any]:
    none = texts("directory.stats.none")
    kinds = [
        texts("directory.stats.kind_line", label=texts(f"directory.kinds.{k}"), count=f"{stats.by_kind[k]:,}")
        for k in GOVERNMENT_KINDS
        if stats.by_kind.get(k)
    ]
    top = sorted(stats.by_prefecture.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PREFECTURES]
    prefs = [
        texts("directory.stats.prefecture_line", prefecture=p.name if (p := prefecture(code)) else code, count=f"{n:,}")
        for code, n in top
    ]
    months = [texts("directory.stats.month_line", month=month, count=f"{n:,}") for month, n in stats.by_month]
    blocks = [
        header(texts("directory.stats.title")),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": texts("directory.stats.members", count=f"{stats.members:,}")},
                {"type": "mrkdwn", "text": texts("directory.stats.governments", count=f"{stats.governments:,}")},
            ],
        },
        section(texts("directory.stats.by_kind", lines="\n".join(kinds) or none)),
        section(texts("directory.stats.by_prefecture", top=TOP_PREFECTURES, lines="\n".join(prefs) or none)),
        section(texts("directory.stats.by_month", lines="\n".join(months) or none)),
        context(texts("directory.stats.footer" if map_on else "directory.stats.footer_no_map")),
    ]
    return message(summary(texts, stats), blocks)


def government_name(texts: Texts, *, org_type: str | None, pref_code: str, muni_code: str | None) -> str:
    muni = municipality(muni_code) if org_type == "municipality" else None
    if muni is not None:
        return muni.name
    pref = prefecture(pref_code)
    key = org_type if org_type in ("prefecture", "national") else "other"
    return texts(f"registration.government.{key}", prefecture=pref.name if pref else "", municipality="")


def kenjinkai_members_message(texts: Texts, *, pref_code: str, listed: list[Listed], total: int) -> dict[str, Any]:
    pref = prefecture(pref_code)
    title = texts("directory.kenjinkai.title", prefecture=pref.name if pref else pref_code, count=f"{total:,}")
    lines = [
        texts(
            "directory.kenjinkai.line",
            user=x.user_id,
            name=x.name,
            government=government_name(texts, org_type=x.org_type, pref_code=pref_code, muni_code=x.muni_code),
            department=x.department,
        )
        for x in listed
    ]
    blocks = [header(title)]
    chunk: list[str] = []
    for line in lines:
        if sum(len(c) + 1 for c in chunk) + len(line) > 2800:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk) if chunk else texts("directory.kenjinkai.empty")))
    if total > len(listed):
        blocks.append(context(texts("directory.kenjinkai.more", count=f"{total - len(listed):,}")))
    return message(title, blocks)
