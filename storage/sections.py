"""課 (sections): the catalogue, who is in which, and finding one by a name typed in kana, kanji or romaji."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.data import normalize_query, romanize
from storage.db import Database
from storage.models import Section, SectionMember
from storage.sql import claimed
from storage.types import utcnow

KINDS = ("work", "skill", "hobby")  # 業務課題解決型 / スキルアップ型 / 趣味型
SUFFIXES = ("課", "部", "か", "ぶ", "ka", "bu")
Outcome = Literal["created", "updated", "unchanged"]


def fold(text: str) -> str:
    """NFKC, lower case, katakana → hiragana, no spaces or punctuation: the form names are compared in."""
    return normalize_query(text)


def name_key(name: str) -> str:
    return fold(name)[:64]


def _stem(key: str) -> str:
    for suffix in SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def search_keys(section: Section) -> set[str]:
    """Every form a member may type: the name (with and without 課), its reading, its romaji, aliases."""
    keys = {name_key(section.name)}
    reading = fold(section.kana or "")
    if reading:
        keys |= {reading, romanize(reading), romanize(reading, collapse=False)}
    keys |= {fold(alias) for alias in section.aliases or () if fold(alias)}
    return {k for k in keys | {_stem(k) for k in keys} if k}


@dataclass(frozen=True, kw_only=True)
class SectionSpec:
    """A validated 課 as the import file describes it."""

    name: str
    kind: str
    description: str = ""
    kana: str = ""
    aliases: tuple[str, ...] = ()
    channel_id: str | None = None
    leads: tuple[str, ...] = ()
    active: bool = True


def _columns(spec: SectionSpec) -> dict:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "description": spec.description,
        "kana": spec.kana,
        "aliases": list(spec.aliases),
        "channel_id": spec.channel_id,
        "leads": list(spec.leads),
        "active": spec.active,
    }


async def upsert(session: AsyncSession, *, team_id: str, spec: SectionSpec) -> Outcome:
    """Create or update by folded name, inside the caller's transaction: importing twice never duplicates."""
    key = name_key(spec.name)
    row = await session.scalar(select(Section).where(Section.team_id == team_id, Section.name_key == key))
    values = _columns(spec)
    if row is None:
        now = utcnow()
        session.add(Section(team_id=team_id, name_key=key, created_at=now, updated_at=now, **values))
        return "created"
    if all(getattr(row, k) == v for k, v in values.items()):
        return "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    return "updated"


@dataclass(frozen=True)
class Listed:
    section: Section
    members: int


async def list_with_counts(db: Database, *, team_id: str) -> list[Listed]:
    """Active sections by kind then name, each with its member count (one grouped query)."""
    counts = (
        select(SectionMember.section_id, func.count(SectionMember.id).label("n"))
        .where(SectionMember.team_id == team_id)
        .group_by(SectionMember.section_id)
        .subquery()
    )
    async with db.read() as session:
        rows = await session.execute(
            select(Section, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.section_id == Section.id)
            .where(Section.team_id == team_id, Section.active.is_(True))
        )
        listed = [Listed(section, int(n)) for section, n in rows]
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(listed, key=lambda x: (order.get(x.section.kind, 9), x.section.name_key))


async def active_sections(db: Database, *, team_id: str) -> list[Section]:
    async with db.read() as session:
        return list(await session.scalars(select(Section).where(Section.team_id == team_id, Section.active.is_(True))))


@dataclass(frozen=True)
class Found:
    """`section` when the query names exactly one; otherwise the closest names, best first."""

    section: Section | None
    suggestions: list[Section] = field(default_factory=list)


def match(sections: list[Section], query: str, *, suggest: int = 3) -> Found:
    """Exact key → that one; a key starting with or containing the query, if unique → that one; else suggest."""
    q = fold(query)
    if not q:
        return Found(None, [])
    keyed = [(s, search_keys(s)) for s in sections]
    stems = {q, _stem(q)}
    exact = [s for s, keys in keyed if keys & stems]
    if len(exact) == 1:
        return Found(exact[0])
    partial = [s for s, keys in keyed if any(q in k for k in keys)]
    if len(partial) == 1:
        return Found(partial[0])

    def score(item: tuple[Section, set[str]]) -> float:
        return max(difflib.SequenceMatcher(None, q, k).ratio() + (0.5 if q in k or k in q else 0) for k in item[1])

    scored = sorted(((score(item), item[0]) for item in keyed), key=lambda x: (-x[0], x[1].name_key))
    return Found(None, [s for sc, s in scored if sc >= 0.34][:suggest])


async def find(db: Database, *, team_id: str, query: str) -> Found:
    return match(await active_sections(db, team_id=team_id), query)


async def join(db: Database, *, team_id: str, section_id: int, user_id: str) -> bool:
    """True when newly joined, False when already a member."""
    async with db.write() as session:
        return await claimed(
            session, SectionMember, team_id=team_id, section_id=section_id, user_id=user_id, joined_at=utcnow()
        )


async def leave(db: Database, *, team_id: str, section_id: int, user_id: str) -> bool:
    async with db.write() as session:
        result = await session.execute(
            delete(SectionMember).where(
                SectionMember.team_id == team_id,
                SectionMember.section_id == section_id,
                SectionMember.user_id == user_id,
            )
        )
        return result.rowcount > 0


async def of_member(db: Database, *, team_id: str, user_id: str) -> list[Section]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Section)
            .join(SectionMember, SectionMember.section_id == Section.id)
            .where(SectionMember.team_id == team_id, SectionMember.user_id == user_id)
            .order_by(Section.name_key)
        )
        return list(rows)


async def join_interests(
    db: Database, *, team_id: str, user_id: str, interests: list[str] | tuple[str, ...]
) -> list[Section]:
    """Interests typed at registration → the 課 each names unambiguously; returns those newly joined."""
    sections = await active_sections(db, team_id=team_id)
    joined: list[Section] = []
    for interest in interests:
        found = match(sections, interest)
        if (
            found.section is not None
            and found.section not in joined
            and await join(db, team_id=team_id, section_id=found.section.id, user_id=user_id)
        ):
            joined.append(found.section)
    return joined
