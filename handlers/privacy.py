"""/mydata export|forget (APPI): a member's data as a JSON file in a DM, or erased after a confirmation."""

from __future__ import annotations

import json
import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.blocks import privacy as ids
from bot.blocks.help import usage_message
from bot.blocks.privacy import forget_confirmation
from bot.services.privacy import forget_member
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.files import dm_channel, upload
from bot.slack.slash import SlashCommand
from storage import audit, privacy

# /mydata: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("mydata")

log = logging.getLogger(__name__)


async def send_export(deps: Deps, *, team_id: str, user_id: str, respond: AsyncRespond) -> None:
    data = await privacy.collect(
        deps.db, team_id=team_id, user_id=user_id, profile=deps.community, language=deps.texts.lang
    )
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    try:
        await upload(
            deps,
            channel=await dm_channel(deps, user_id),
            content=content,
            filename="yakuba-mydata.json",
            title="yakuba-mydata.json",
            comment=deps.texts("privacy.export.comment"),
        )
    except SlackApiError as exc:
        log.warning("personal data export not sent: %s", exc.response.get("error"))
        await respond(response_type="ephemeral", text=deps.texts("privacy.export.failed"))
        return
    async with deps.db.write() as session:
        audit.record(session, team_id=team_id, actor=user_id, action="privacy.exported", subject=user_id)


async def on_mydata(ack: AsyncAck, command: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    deps = deps_of(context)
    texts, team_id, user_id = deps.texts, context.team_id or deps.team_id, command["user_id"]
    verb = (command.get("text") or "").strip().lower()
    if verb == "export":
        await ack(response_type="ephemeral", text=texts("privacy.export.started"))
        await send_export(deps, team_id=team_id, user_id=user_id, respond=respond)
    elif verb == "forget":
        await ack(response_type="ephemeral", **forget_confirmation(texts, built_in=deps.community.is_built_in))
    else:
        await ack(response_type="ephemeral", **usage_message(texts, "mydata"))


async def on_forget_confirmed(ack: AsyncAck, body: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    """Whoever presses the button is the one erased: nobody can erase someone else."""
    await ack()
    deps = deps_of(context)
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    team_id, user_id = context.team_id or team.get("id") or deps.team_id, body["user"]["id"]
    result = await forget_member(deps, team_id=team_id, user_id=user_id)
    key = "privacy.forget.done" if result.anything else "privacy.forget.nothing"
    await respond(response_type="ephemeral", replace_original=True, text=deps.texts(key))


async def on_forget_cancelled(ack: AsyncAck, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    await respond(
        response_type="ephemeral", replace_original=True, text=deps_of(context).texts("privacy.forget.cancelled")
    )


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_mydata))
    app.action(ids.FORGET_CONFIRM)(on_forget_confirmed)
    app.action(ids.FORGET_CANCEL)(on_forget_cancelled)
