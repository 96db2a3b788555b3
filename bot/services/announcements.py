"""Announcement targets: reading `/announce TARGETS MESSAGE`, who may send where, and who receives.

Organisers may target anything. A prefecture lead (`members.is_lead` of their prefecture)
only their own prefecture's channel. Everyone else nothing — checked again on every click.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.context import Deps
from bot.slack.permissions import is_organizer
from storage import announcements as store
from storage import members, prefectures, sections
from storage.data import prefecture

MAX_CHARS = 3000  # what one Block Kit section holds, and what the modal's text box accepts
KINDS = ("all", "prefs", "channels", "broadcast", "members")
SPLIT = re.compile(r"[\s\u3000]+", re.UNICODE)
LIST = re.compile(r"[,、，]")
CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]{2,31})(?:\|[^>]*)?>$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,31}$")


class TargetError(Exception):
    """Input the bot cannot act on: `key` names the catalogue text, `params` fill it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True)
class Targets:
    kind: str
    codes: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "codes": sorted(self.codes), "channels": sorted(self.channels)}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Targets:
        return cls(str(data.get("kind")), tuple(data.get("codes") or ()), tuple(data.get("channels") or ()))


@dataclass(frozen=True)
class Role:
    organizer: bool = False
    lead_of: str | None = None

    @property
    def may_announce(self) -> bool:
        return self.organizer or self.lead_of is not None

    def allows(self, targets: Targets) -> bool:
        if self.organizer:
            return True
        return self.lead_of is not None and targets.kind == "prefs" and targets.codes == (self.lead_of,)


@dataclass
class Resolved:
    targets: Targets
    recipients: list[tuple[str, str]] = field(default_factory=list)  # (channel|dm, id)


async def role_of(deps: Deps, *, team_id: str, user_id: str) -> Role:
    if await is_organizer(deps, user_id):
        return Role(organizer=True)
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if member and member.is_lead and member.status == "approved" and member.left_at is None and member.pref_code:
        return Role(lead_of=member.pref_code)
    return Role()


def parse_targets(token: str) -> Targets:
    """`all`, `members`, `broadcast`, `pref:13,27`, `東京都,大阪府` or `ka:NAME` (a 課 channel)."""
    lowered = token.lower()
    if lowered in ("all", "members", "broadcast"):
        return Targets(lowered)
    if lowered.startswith("ka:"):
        names = [n.strip() for n in LIST.split(token[3:]) if n.strip()]
        if not names:
            raise TargetError("announcements.errors.targets")
        return Targets("channels", channels=tuple(dict.fromkeys(_channel_ref(n) for n in names)))
    body = token[5:] if lowered.startswith("pref:") else token
    codes = []
    for part in (p.strip() for p in LIST.split(body)):
        if not part:
            continue
        pref = prefecture(part)
        if pref is None:
            raise TargetError("announcements.errors.unknown_prefecture", name=part[:40])
        codes.append(pref.code)
    if not codes:
        raise TargetError("announcements.errors.targets")
    return Targets("prefs", codes=tuple(sorted(set(codes))))


def _channel_ref(name: str) -> str:
    found = CHANNEL_REF.match(name)
    return found.group(1) if found else name.lstrip("#")


def parse_quick(text: str) -> tuple[Targets, str]:
    """Split `/announce TARGETS MESSAGE`; TargetError when either part is missing or unreadable."""
    parts = SPLIT.split(text.strip(), maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        raise TargetError("announcements.errors.usage")
    return parse_targets(parts[0]), check_text(parts[1])


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise TargetError("announcements.errors.empty")
    if len(text) > MAX_CHARS:
        raise TargetError("announcements.errors.too_long", limit=MAX_CHARS, length=len(text))
    return text


async def resolve(deps: Deps, *, team_id: str, targets: Targets) -> Resolved:
    """Who receives, as of now; TargetError when a target does not exist (yet)."""
    if targets.kind not in KINDS:
        raise TargetError("announcements.errors.targets")
    if targets.kind == "members":
        ids = await store.approved_members(deps.db, team_id=team_id)
        if not ids:
            raise TargetError("announcements.errors.no_members")
        return Resolved(targets, [("dm", user) for user in ids])
    if targets.kind == "broadcast":
        channel = deps.settings.yakuba_broadcast_channel
        if not channel:
            raise TargetError("announcements.errors.no_broadcast")
        return Resolved(targets, [("channel", channel)])
    if targets.kind == "channels":
        ids = await _channel_ids(deps, targets.channels)
        return Resolved(Targets("channels", channels=tuple(sorted(ids))), [("channel", c) for c in sorted(ids)])
    recorded = await prefectures.all_channels(deps.db, team_id=team_id)
    codes = sorted(recorded) if targets.kind == "all" else list(targets.codes)
    if not codes:
        raise TargetError("announcements.errors.no_prefecture_channels")
    missing = [code for code in codes if code not in recorded]
    if missing:
        names = "、".join(p.name for p in map(prefecture, missing) if p)
        raise TargetError("announcements.errors.missing_channels", names=names)
    return Resolved(targets, [("channel", recorded[code].channel_id) for code in codes])


async def _channel_ids(deps: Deps, refs: tuple[str, ...]) -> set[str]:
    """課 by name (the sections table, fuzzy in kana/kanji), else a channel id or a channel name."""
    ids = {r for r in refs if CHANNEL_ID.match(r)}
    wanted = set()
    for ref in (r for r in refs if r not in ids):
        found = await sections.find(deps.db, team_id=deps.team_id, query=ref)
        if found.section is not None and found.section.channel_id:
            ids.add(found.section.channel_id)
        else:
            wanted.add(ref)
    cursor = None
    while wanted:
        try:
            page = await deps.client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=200, cursor=cursor
            )
        except SlackApiError as exc:
            raise TargetError("announcements.errors.unknown_channel", name=", ".join(sorted(wanted))) from exc
        for channel in page.get("channels") or []:
            if channel.get("name") in wanted:
                wanted.discard(channel["name"])
                ids.add(channel["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    if wanted:
        raise TargetError("announcements.errors.unknown_channel", name=", ".join(sorted(wanted))[:200])
    return ids
