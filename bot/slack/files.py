"""Files to a member: open their DM and upload into it (the map, the members CSV, their own data)."""

from __future__ import annotations

from bot.slack.context import Deps


async def dm_channel(deps: Deps, user_id: str) -> str:
    opened = await deps.client.conversations_open(users=user_id)
    return opened["channel"]["id"]


async def upload(deps: Deps, *, channel: str, content: bytes, filename: str, title: str, comment: str) -> None:
    await deps.client.files_upload_v2(
        channel=channel, content=content, filename=filename, title=title, initial_comment=comment
    )
