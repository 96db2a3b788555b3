"""Operator work for membership: set up the 47 prefecture channels, backfill members from users.list.

Used by `yakuba setup prefectures`, `/yakuba setup prefectures` and `yakuba members sync`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError

from bot.context import Deps
from storage import audit, members, prefectures
from storage.data import prefectures as all_prefectures

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
SLACKBOT = "USLACKBOT"
PAGE_SIZE = 200  # what Slack recommends for users.list
MAX_RATE_WAITS = 20


def channel_names(pattern: str) -> dict[str, str]:
    """{pref_code: channel name} from the pattern, e.g. kenjinkai-{code}-{romaji} → kenjinkai-13-tokyo."""
    try:
        names = {p.code: pattern.format(code=p.code, romaji=p.romaji).lower() for p in all_prefectures()}
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"YAKUBA_PREFECTURE_CHANNEL_PATTERN {pattern!r}: use {{code}} and {{romaji}}") from exc
    if len(set(names.values())) != len(names):
        raise ValueError(f"YAKUBA_PREFECTURE_CHANNEL_PATTERN {pattern!r} gives the same name to two prefectures")
    return names


@dataclass
class SetupReport:
    created: int = 0
    linked: int = 0
    unchanged: int = 0
    placed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


async def _existing_channels(deps: Deps, wanted: set[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    cursor = None
    while True:
        page = await deps.client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=200, cursor=cursor
        )
        for channel in page.get("channels") or []:
            if channel.get("name") in wanted:
                found[channel["name"]] = channel
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return found


async def setup_prefectures(deps: Deps, *, team_id: str, actor: str = "cli") -> SetupReport:
    """Create the channels that are missing, link (and join) those that exist, record all. Idempotent."""
    names = channel_names(deps.settings.yakuba_prefecture_channel_pattern)
    existing = await _existing_channels(deps, set(names.values()))
    recorded = await prefectures.all_channels(deps.db, team_id=team_id)
    report = SetupReport()
    for code, name in names.items():
        try:
            channel = existing.get(name)
            if channel is None:
                channel = (await deps.client.conversations_create(name=name))["channel"]
                outcome = "created"
            else:
                outcome = "linked"
                if not channel.get("is_member"):
                    await deps.client.conversations_join(channel=channel["id"])
                    outcome = "joined"
        except SlackApiError as exc:
            report.failures.append((name, str(exc.response.get("error") or exc.response.status_code)))
            continue
        changed = await prefectures.record(
            deps.db, team_id=team_id, pref_code=code, channel_id=channel["id"], name=name
        )
        if outcome == "created":
            report.created += 1
        elif changed or outcome == "joined" or code not in recorded:
            report.linked += 1
        else:
            report.unchanged += 1
    # Members approved while their prefecture had no channel yet are invited, greeted and told now.
    from handlers.membership import place_late

    for user_id in await members.awaiting_placement(deps.db, team_id=team_id):
        if await place_late(deps, team_id=team_id, user_id=user_id):
            report.placed += 1
    async with deps.db.write() as session:
        audit.record(
            session,
            team_id=team_id,
            actor=actor[:32],
            action="prefectures.setup",
            detail={"created": report.created, "linked": report.linked, "failed": len(report.failures)},
        )
    return report


@dataclass
class SyncReport:
    pages: int = 0
    seen: int = 0
    added: int = 0
    changed: int = 0
    skipped: int = 0
    rate_waits: int = 0


async def _users_page(deps: Deps, cursor: str | None, limit: int, report: SyncReport) -> dict:
    """One users.list page. The client already retries 429s; if they run out, wait Retry-After and go on."""
    for _ in range(MAX_RATE_WAITS):
        try:
            return (await deps.client.users_list(limit=limit, cursor=cursor or None)).data
        except SlackApiError as exc:
            if exc.response.status_code != 429:
                raise
            report.rate_waits += 1
            await asyncio.sleep(float(exc.response.headers.get("Retry-After", "1") or 1))
    raise RuntimeError("users.list stayed rate-limited; try again later")


async def sync_members(
    deps: Deps, *, team_id: str, page_size: int = PAGE_SIZE, progress: Callable[[SyncReport], None] | None = None
) -> SyncReport:
    """Record everyone already in the workspace, page by page (memory stays one page), DMing no one."""
    report = SyncReport()
    cursor: str | None = None
    while True:
        page = await _users_page(deps, cursor, page_size, report)
        active: list[str] = []
        deleted: list[str] = []
        for user in page.get("members") or []:
            user_id = user.get("id") if isinstance(user, dict) else None
            if (
                not isinstance(user_id, str)
                or not USER_ID.match(user_id)
                or user_id == SLACKBOT
                or user.get("is_bot")
                or user.get("is_app_user")
            ):
                report.skipped += 1
                continue
            (deleted if user.get("deleted") else active).append(user_id)
        async with deps.db.write() as session:
            added, changed = await members.record_batch(
                session, team_id=team_id, active=active, deleted=deleted, now=deps.clock()
            )
        report.pages += 1
        report.seen += len(active) + len(deleted)
        report.added += added
        report.changed += changed
        if progress is not None:
            progress(report)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return report


# --- the shell side: `yakuba setup prefectures`, `yakuba members sync` ------------------------------


async def cli_setup_prefectures(settings) -> SetupReport:
    from bot.operations import running  # the app imports this module: import the runner lazily

    async with running(settings) as yakuba:
        return await setup_prefectures(yakuba.deps, team_id=yakuba.deps.team_id)


async def cli_sync_members(settings, *, progress: Callable[[SyncReport], None] | None = None) -> SyncReport:
    from bot.operations import running

    async with running(settings) as yakuba:
        return await sync_members(yakuba.deps, team_id=yakuba.deps.team_id, progress=progress)
