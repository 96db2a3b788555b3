"""The member directory in figures: read from the kept counts (member_counts, member_approvals), never members.

Who counts: approved members who have not left, plus the anonymous rows the privacy erase keeps
(status "anonymous"), so erasing one's data does not shrink the membership figures. An anonymous
member of a municipality keeps its kind of government in org_type (city, ward, …) but no municipality:
it counts by prefecture and kind, not among the governments. New members per month count approvals
(left and anonymised members included), by month in YAKUBA_TZ.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, func, or_, select

from storage.community import CommunityProfile
from storage.data import municipality, prefecture
from storage.db import Database
from storage.models import Member, MemberApproval, MemberCount

COUNTED = ("approved", "anonymous")
# Kinds of government as organisers talk about them; a designated city's wards belong to the city.
KIND_OF_MUNICIPALITY = {
    "city": "city",
    "designated_city": "city",
    "designated_ward": "city",
    "special_ward": "ward",
    "town": "town",
    "village": "village",
}
GOVERNMENT_KINDS = ("prefecture", "city", "ward", "town", "village", "national", "other")
MUNICIPAL_KINDS = frozenset(KIND_OF_MUNICIPALITY.values())


@dataclass(frozen=True)
class Stats:
    members: int
    governments: int
    by_prefecture: dict[str, int]  # pref code → members, only prefectures with members
    by_kind: dict[str, int]  # GOVERNMENT_KINDS → members
    by_month: list[tuple[str, int]] = field(default_factory=list)  # ("2026-04", approvals), oldest first


def _counted(team_id: str):
    return and_(
        MemberCount.team_id == team_id,
        MemberCount.status.in_(COUNTED),
        MemberCount.live.is_(True),
        MemberCount.n > 0,
    )


def government_of(org_type: str | None, pref_code: str | None, muni_code: str | None) -> tuple[str | None, str]:
    """(government key, kind) of one group of members; the key is None when the government is unknown."""
    if org_type == "prefecture" and pref_code:
        return f"pref-{pref_code}", "prefecture"
    if org_type == "national":
        return "national", "national"
    if org_type == "municipality" and muni_code:
        muni = municipality(muni_code)
        if muni is not None:
            return (muni.parent_code or muni.code), KIND_OF_MUNICIPALITY.get(muni.kind, "other")
    if org_type in MUNICIPAL_KINDS:
        return None, org_type  # an anonymous row: the kind of government is kept, the municipality is not
    return None, "other"


def month_starts(now: datetime, tz: tzinfo, months: int) -> list[datetime]:
    """The first instants of the last `months` local months (oldest first) plus the next month's, in UTC."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    out = []
    for back in range(months - 1, -2, -1):
        y, m = divmod((year * 12 + month - 1) - back, 12)
        out.append(datetime(y, m + 1, 1, tzinfo=tz).astimezone(UTC))
    return out


async def stats(db: Database, *, team_id: str, now: datetime, tz: tzinfo, months: int = 12) -> Stats:
    """Two statements on the kept counts (storage.member_counts), whatever the size of the register."""
    async with db.read() as session:
        groups = (
            await session.execute(
                select(MemberCount.pref_code, MemberCount.org_type, MemberCount.muni_code, func.sum(MemberCount.n))
                .where(_counted(team_id))
                .group_by(MemberCount.pref_code, MemberCount.org_type, MemberCount.muni_code)
            )
        ).all()
        bounds = month_starts(now, tz, months)
        # One scalar subquery per month, each a range of quarter hours on the primary key.
        months_in = [
            select(func.coalesce(func.sum(MemberApproval.n), 0))
            .where(MemberApproval.team_id == team_id, MemberApproval.bucket >= a, MemberApproval.bucket < b)
            .scalar_subquery()
            for a, b in pairwise(bounds)
        ]
        monthly = (await session.execute(select(*months_in))).one()
    by_pref: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    governments: set[str] = set()
    for pref_code, org_type, muni_code, n in groups:
        if not n:
            continue
        key, kind = government_of(org_type or None, pref_code or None, muni_code or None)
        if pref_code:
            by_pref[pref_code] += int(n)
        by_kind[kind] += int(n)
        if key:
            governments.add(key)
    labels = [b.astimezone(tz).strftime("%Y-%m") for b in bounds[:-1]]
    return Stats(
        members=sum(by_kind.values()),
        governments=len(governments),
        by_prefecture=dict(sorted(by_pref.items())),
        by_kind={k: by_kind.get(k, 0) for k in GOVERNMENT_KINDS},
        by_month=[(label, int(n or 0)) for label, n in zip(labels, monthly, strict=True)],
    )


async def answer_counts(db: Database, *, team_id: str, keys: list[str]) -> dict[str, dict[str | None, int]]:
    """Approved members who have not left, counted by their answer to each of a profile's own fields
    (members.answers; None: not answered). One grouped statement per field, over the register itself: the kept
    counts know only the typed columns, and a profile asks at most 20 questions."""
    out: dict[str, dict[str | None, int]] = {}
    if not keys:
        return out
    here = (Member.team_id == team_id, Member.status == "approved", Member.left_at.is_(None))
    async with db.read() as session:
        for key in keys:
            answer = Member.answers[key].as_string().label("answer")
            rows = await session.execute(select(answer, func.count()).where(*here).group_by(answer))
            out[key] = {value or None: int(n) for value, n in rows}
    return out


async def prefecture_counts(db: Database, *, team_id: str) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(
            select(MemberCount.pref_code, func.sum(MemberCount.n))
            .where(_counted(team_id), MemberCount.pref_code != "")
            .group_by(MemberCount.pref_code)
        )
        return {code: int(n) for code, n in rows if n}


@dataclass(frozen=True)
class Listed:
    user_id: str
    name: str
    muni_code: str | None
    org_type: str | None
    department: str
    title: str = ""
    answers: dict[str, Any] = field(default_factory=dict)  # the profile's own fields (members.answers)


async def prefecture_members(
    db: Database, *, team_id: str, pref_code: str, limit: int = 50
) -> tuple[list[Listed], int]:
    """Approved members of one prefecture (name order, at most `limit`) and how many there are in all."""
    here = (
        Member.team_id == team_id,
        Member.status == "approved",
        Member.left_at.is_(None),
        Member.pref_code == pref_code,
    )
    async with db.read() as session:
        total = await session.scalar(select(func.count()).select_from(Member).where(*here))
        rows = await session.execute(
            select(
                Member.user_id,
                Member.name,
                Member.muni_code,
                Member.org_type,
                Member.department,
                Member.title,
                Member.answers,
            )
            .where(*here)
            .order_by(Member.muni_code, Member.name)
            .limit(limit)
        )
        listed = [
            Listed(u, n or "", m, o, d or "", t or "", a if isinstance(a, dict) else {}) for u, n, m, o, d, t, a in rows
        ]
        return listed, int(total or 0)


EXPORT_COLUMNS = (
    "user_id",
    "status",
    "name",
    "org_type",
    "prefecture",
    "municipality",
    "department",
    "title",
    "joined_at",
    "approved_at",
    "left_at",
)


@lru_cache(maxsize=4096)
def _place_names(pref_code: str | None, muni_code: str | None) -> tuple[str, str]:
    pref, muni = prefecture(pref_code), municipality(muni_code)
    return (pref.name if pref else "", muni.name if muni else "")


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


# Fields whose answers live in the typed columns above (the form fills them), not in members.answers.
_TYPED_KINDS = frozenset({"prefecture", "municipality", "sections"})
_TYPED_KEYS = frozenset({"name", "org_type", "department", "title"})


def answer_columns(community: CommunityProfile | None) -> list[tuple[str, str]]:
    """(header, key) of the profile's own fields, after the built-in columns and in the profile's order.

    The header is the field's key: stable across languages and label edits, so a spreadsheet built on one
    export still reads the next. A key that is also a built-in column's name is written `answers.KEY`."""
    if community is None or community.is_built_in_form:
        return []
    return [
        (f"answers.{f.key}" if f.key in EXPORT_COLUMNS else f.key, f.key)
        for f in community.fields
        if f.kind not in _TYPED_KINDS and f.key not in _TYPED_KEYS
    ]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


async def export_rows(
    db: Database, *, team_id: str, batch: int = 5000, answer_keys: list[str] | None = None
) -> AsyncIterator[list[str]]:
    """Every member who registered (anonymous rows left out), streamed as plain rows (no ORM objects);
    `answer_keys` adds one cell per profile field from members.answers (empty when not answered)."""
    columns = (
        Member.user_id,
        Member.status,
        Member.name,
        Member.org_type,
        Member.pref_code,
        Member.muni_code,
        Member.department,
        Member.title,
        Member.joined_at,
        Member.approved_at,
        Member.left_at,
        Member.answers,
    )
    async with db.read() as session:
        result = await session.stream(
            select(*columns)
            .where(
                Member.team_id == team_id,
                Member.status != "anonymous",
                or_(Member.name.is_not(None), Member.status != "joined"),
            )
            .order_by(Member.id)
            .execution_options(yield_per=batch)
        )
        async for user_id, status, name, org, pref_code, muni_code, dept, title, joined, approved, left, ans in result:
            own = ans if isinstance(ans, dict) else {}
            yield [
                user_id,
                status,
                name or "",
                org or "",
                *_place_names(pref_code, muni_code),
                dept or "",
                title or "",
                _iso(joined),
                _iso(approved),
                _iso(left),
                *(_cell(own.get(key)) for key in answer_keys or ()),
            ]


# A cell a spreadsheet would read as a formula (or a DDE call) when the organiser opens the export.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell: str) -> str:
    """Members' text shown as text in a spreadsheet: a leading apostrophe before what would start a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


async def export_csv(db: Database, *, team_id: str, community: CommunityProfile | None = None) -> tuple[bytes, int]:
    """The CSV (UTF-8 with BOM, so spreadsheet software reads the Japanese) and its number of rows; a custom
    profile's own fields follow the built-in columns (the built-in profile's export is unchanged)."""
    extra = answer_columns(community)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*EXPORT_COLUMNS, *(header for header, _ in extra)])
    count = 0
    async for row in export_rows(db, team_id=team_id, answer_keys=[key for _, key in extra]):
        writer.writerow([_inert(cell) for cell in row])
        count += 1
    return ("\ufeff" + out.getvalue()).encode("utf-8"), count
