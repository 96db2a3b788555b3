"""/members stats and /kenjinkai members: figures and lists as Block Kit.

With the built-in profile (or none) both read exactly as they always did. Another profile's own fields show too:
/members stats counts each select field by option (figures only, never who); the `/kenjinkai members` listing
shows, after the name, the answers to its text and select fields (a select by its option's label), in the
profile's order. Other members never see an email or phone field (contact data), a long text, a checkbox (the
consent) or the sections a member chose; the prefecture is the listing itself, a municipality shows as the government.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.blocks.common import Block, context, header, message, section
from bot.texts import Texts
from bot.texts.markup import join
from storage.community import CommunityProfile, ProfileField
from storage.data import municipality, prefecture
from storage.directory import GOVERNMENT_KINDS, Listed, Stats

TOP_PREFECTURES = 10
LISTED_KINDS = frozenset({"text", "select"})  # what the directory shows other members; see the module's note
TYPED_KEYS = frozenset({"name", "org_type", "department", "title"})  # answers kept in members' typed columns


def _own_form(profile: CommunityProfile | None) -> bool:
    return profile is not None and not profile.is_built_in_form


def asks_government(profile: CommunityProfile | None) -> bool:
    """Whether members say what government they work for (the kinds of government and their count mean something)."""
    return not _own_form(profile) or any(f.key == "org_type" or f.kind == "municipality" for f in profile.fields)


def counted_fields(profile: CommunityProfile | None) -> list[ProfileField]:
    """The profile's own select fields, which /members stats counts by option (none for the built-in form)."""
    if not _own_form(profile):
        return []
    return [f for f in profile.fields if f.kind == "select" and f.key not in TYPED_KEYS]


def summary(texts: Texts, stats: Stats, profile: CommunityProfile | None = None) -> str:
    if not asks_government(profile):
        return texts("directory.stats.summary_members", members=f"{stats.members:,}")
    return texts("directory.stats.summary", members=f"{stats.members:,}", governments=f"{stats.governments:,}")


def _breakdown(texts: Texts, f: ProfileField, counts: Mapping[str | None, int]) -> Block:
    known = {o.value for o in f.options}
    lines = [
        texts("directory.stats.option_line", option=o.label(texts.lang), count=f"{counts.get(o.value, 0):,}")
        for o in f.options
    ]
    others = sum(n for value, n in counts.items() if value is not None and value not in known)  # removed options
    if others:
        lines.append(texts("directory.stats.option_line", option=texts("directory.stats.other"), count=f"{others:,}"))
    if counts.get(None):
        unanswered = texts("directory.stats.unanswered")
        lines.append(texts("directory.stats.option_line", option=unanswered, count=f"{counts[None]:,}"))
    return section(texts("directory.stats.by_field", label=f.label(texts.lang), lines=join("\n", lines)))


def stats_message(
    texts: Texts,
    stats: Stats,
    *,
    map_on: bool = True,
    profile: CommunityProfile | None = None,
    answers: Mapping[str, Mapping[str | None, int]] | None = None,
) -> dict[str, Any]:
    """The figures; `answers` are the counts of the profile's own select fields (storage.directory.answer_counts)."""
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
    government = asks_government(profile)
    figures = [{"type": "mrkdwn", "text": texts("directory.stats.members", count=f"{stats.members:,}")}]
    if government:
        figures.append({"type": "mrkdwn", "text": texts("directory.stats.governments", count=f"{stats.governments:,}")})
    blocks: list[Block] = [header(texts("directory.stats.title")), {"type": "section", "fields": figures}]
    if government:
        blocks.append(section(texts("directory.stats.by_kind", lines="\n".join(kinds) or none)))
    if profile is None or any(f.kind == "prefecture" for f in profile.fields):
        blocks.append(
            section(texts("directory.stats.by_prefecture", top=TOP_PREFECTURES, lines="\n".join(prefs) or none))
        )
    blocks += [_breakdown(texts, f, (answers or {}).get(f.key, {})) for f in counted_fields(profile)]
    blocks += [
        section(texts("directory.stats.by_month", lines="\n".join(months) or none)),
        context(texts("directory.stats.footer" if map_on else "directory.stats.footer_no_map")),
    ]
    return message(summary(texts, stats, profile), blocks)


def government_name(texts: Texts, *, org_type: str | None, pref_code: str, muni_code: str | None) -> str:
    muni = municipality(muni_code) if org_type == "municipality" else None
    if muni is not None:
        return muni.name
    pref = prefecture(pref_code)
    key = org_type if org_type in ("prefecture", "national") else "other"
    return texts(f"registration.government.{key}", prefecture=pref.name if pref else "", municipality="")


def _listed_value(texts: Texts, f: ProfileField, x: Listed) -> str | None:
    value = {"department": x.department, "title": x.title}.get(f.key) if f.key in TYPED_KEYS else x.answers.get(f.key)
    if f.kind == "select":
        option = next((o for o in f.options if o.value == value), None)
        return option.label(texts.lang) if option else None
    return value if isinstance(value, str) and value.strip() else None


def _profile_line(texts: Texts, profile: CommunityProfile, pref_code: str, x: Listed) -> str:
    """One member of a custom profile's listing: name, government (when asked), then text and select answers."""
    parts: list[str] = []
    if asks_government(profile):
        parts.append(government_name(texts, org_type=x.org_type, pref_code=pref_code, muni_code=x.muni_code))
    for f in profile.fields:
        if f.kind in LISTED_KINDS and f.key not in ("name", "org_type"):
            value = _listed_value(texts, f, x)
            if value is not None:
                parts.append(texts("directory.kenjinkai.detail", label=f.label(texts.lang), value=value))
    if not parts:
        return texts("directory.kenjinkai.line_name", user=x.user_id, name=x.name)
    return texts("directory.kenjinkai.line_profile", user=x.user_id, name=x.name, details=join("　", parts))


def kenjinkai_members_message(
    texts: Texts, *, pref_code: str, listed: list[Listed], total: int, profile: CommunityProfile | None = None
) -> dict[str, Any]:
    pref = prefecture(pref_code)
    title = texts("directory.kenjinkai.title", prefecture=pref.name if pref else pref_code, count=f"{total:,}")
    if _own_form(profile):
        lines = [_profile_line(texts, profile, pref_code, x) for x in listed]
    else:
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
