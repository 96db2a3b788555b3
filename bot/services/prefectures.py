"""The 47 prefecture channels: create or link them, record them, place members who waited for one.

Used by `yakuba setup prefectures` and `/yakuba setup prefectures`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError

from bot.services.membership import place
from bot.slack.context import Deps
from storage import audit, members, prefectures
from storage.data import prefectures as all_prefectures

log = logging.getLogger(__name__)


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
    placed: int = 0  # placements queued
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
    # Members approved while their prefecture had no channel yet (or whose placement failed) are invited, greeted
    # and told now, through the outbox.
    for user_id in await members.awaiting_placement(deps.db, team_id=team_id):
        if await place(deps, team_id=team_id, user_id=user_id, reason="late"):
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
