"""/members stats|map|export: the directory, answered from aggregate SQL."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.blocks.directory import counted_fields, stats_message
from bot.blocks.help import usage_message
from bot.blocks.intro import figures_block
from bot.services.directory import render_map
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.files import dm_channel, upload
from bot.slack.permissions import is_organizer
from bot.slack.slash import SlashCommand
from storage import audit, directory, intro

# /members: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand(
    "members", organisers={"export": "directory.export.refused"}, verb_features={"map": "directory_map"}, staff=("",)
)

log = logging.getLogger(__name__)


async def on_members(ack: AsyncAck, command: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    deps = deps_of(context)
    texts, team_id, user_id = deps.texts, context.team_id or deps.team_id, command["user_id"]
    verb = (command.get("text") or "").strip().lower()
    if verb in ("", "stats"):
        figures = await directory.stats(deps.db, team_id=team_id, now=deps.clock(), tz=deps.settings.tz)
        community = deps.community
        keys = [f.key for f in counted_fields(community)]
        answers = await directory.answer_counts(deps.db, team_id=team_id, keys=keys)
        answer = stats_message(
            texts, figures, map_on=community.features.directory_map, profile=community, answers=answers
        )
        if await is_organizer(deps, user_id):  # introductions' rounds and met rate: organisers' figures
            rounds = await intro.figures(deps.db, team_id=team_id)
            answer["blocks"] = [*answer.get("blocks", []), figures_block(texts, rounds, deps.settings.tz)]
        await ack(response_type="ephemeral", **answer)
    elif verb == "map":
        await ack(response_type="ephemeral", text=texts("directory.map.started"))
        await send_map(deps, team_id=team_id, user_id=user_id, channel=command.get("channel_id") or "", respond=respond)
    elif verb == "export":
        await ack(response_type="ephemeral", text=texts("directory.export.started"))
        await send_export(deps, team_id=team_id, user_id=user_id, respond=respond)
    else:
        await ack(response_type="ephemeral", **usage_message(texts, "members", deps.usage_keys("members")))


async def send_map(deps: Deps, *, team_id: str, user_id: str, channel: str, respond: AsyncRespond) -> None:
    """Draw in a worker thread (the event loop keeps serving), share where asked, else in a DM."""
    texts = deps.texts
    counts = await directory.prefecture_counts(deps.db, team_id=team_id)
    png = await asyncio.to_thread(render_map, counts)
    comment = texts("directory.map.comment", members=f"{sum(counts.values()):,}", prefectures=len(counts))
    title = texts("directory.map.title")
    try:
        try:
            await upload(deps, channel=channel, content=png, filename="members-map.png", title=title, comment=comment)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("not_in_channel", "channel_not_found", "invalid_arguments"):
                raise
            await upload(
                deps,
                channel=await dm_channel(deps, user_id),
                content=png,
                filename="members-map.png",
                title=title,
                comment=comment,
            )
    except SlackApiError as exc:
        log.warning("members map not shared: %s", exc.response.get("error"))
        await respond(response_type="ephemeral", text=texts("directory.map.failed"))


async def send_export(deps: Deps, *, team_id: str, user_id: str, respond: AsyncRespond) -> None:
    content, count = await directory.export_csv(deps.db, team_id=team_id, community=deps.community)
    stamp = deps.clock().astimezone(deps.settings.tz).strftime("%Y%m%d-%H%M")
    try:
        await upload(
            deps,
            channel=await dm_channel(deps, user_id),
            content=content,
            filename=f"members-{stamp}.csv",
            title=f"members-{stamp}.csv",
            comment=deps.texts("directory.export.comment", count=f"{count:,}"),
        )
    except SlackApiError as exc:
        log.warning("member export not sent: %s", exc.response.get("error"))
        await respond(response_type="ephemeral", text=deps.texts("directory.export.failed"))
        return
    async with deps.db.write() as session:
        audit.record(session, team_id=team_id, actor=user_id, action="members.exported", detail={"rows": count})


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_members, COMMAND))
