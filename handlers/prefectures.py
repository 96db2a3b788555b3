"""県人会: /kenjinkai shows the member's association; leaving and returning keep the records right."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.blocks.directory import kenjinkai_members_message
from bot.blocks.help import usage_message
from bot.blocks.prefectures import association_message, setup_report
from bot.services import membership
from bot.services.prefectures import setup_prefectures
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.slash import YAKUBA, SlashCommand, verb
from storage import directory, members, prefectures
from storage.data import prefecture

# /kenjinkai: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("kenjinkai", feature="prefecture_channels", staff=("checkin",))
# `/yakuba setup prefectures`: this feature's verb of the shared command (handlers.COMMANDS joins it to /yakuba).
SETUP_VERB = SlashCommand(
    YAKUBA[1:],
    organisers={"setup": "prefectures.setup.refused"},
    verb_features={"setup": "prefecture_channels"},
    staff=("setup",),
)

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
SLACKBOT = "USLACKBOT"


async def on_kenjinkai(ack: AsyncAck, command: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team_id = deps.texts, context.team_id or deps.team_id
    if (command.get("text") or "").strip().lower() == "members":  # the directory's listing of one's own 県人会
        await kenjinkai_members(ack, deps, team_id=team_id, user_id=command["user_id"])
        return
    if (command.get("text") or "").strip():
        await ack(response_type="ephemeral", **usage_message(texts, "kenjinkai"))
        return
    member = await members.get(deps.db, team_id=team_id, user_id=command["user_id"])
    if member is None or member.status not in ("approved", "pending") or not member.pref_code:
        await ack(response_type="ephemeral", text=texts("prefectures.kenjinkai.not_registered"))
        return
    pref = prefecture(member.pref_code)
    if member.status == "pending":
        await ack(
            response_type="ephemeral", text=texts("prefectures.kenjinkai.pending", prefecture=pref.name if pref else "")
        )
        return
    channel = await prefectures.channel_for(deps.db, team_id=team_id, pref_code=member.pref_code)
    figures = await members.association(deps.db, team_id=team_id, pref_code=member.pref_code)
    await ack(
        response_type="ephemeral",
        **association_message(
            texts, pref_code=member.pref_code, channel_id=channel.channel_id if channel else None, figures=figures
        ),
    )


async def on_user_change(event: dict, context: AsyncBoltContext) -> None:
    """Deactivated → marked left (nothing deleted); reactivated → restored and back in their channel."""
    deps = deps_of(context)
    user = event.get("user") if isinstance(event.get("user"), dict) else {}
    user_id = user.get("id")
    if not isinstance(user_id, str) or not USER_ID.match(user_id) or user_id == SLACKBOT or user.get("is_bot"):
        return
    team_id = context.team_id or deps.team_id
    if user.get("deleted"):
        await members.leave(deps.db, team_id=team_id, user_id=user_id)
        return
    restored = await members.restore(deps.db, team_id=team_id, user_id=user_id)
    if restored is not None and restored.status == "approved":
        await membership.place(deps, team_id=team_id, user_id=user_id)


async def on_member_left_channel(event: dict, context: AsyncBoltContext) -> None:
    """Leaving one's own prefecture channel is allowed; the record then says they are not placed."""
    deps = deps_of(context)
    user_id, channel_id = event.get("user"), event.get("channel")
    if not isinstance(user_id, str) or not isinstance(channel_id, str):
        return
    team_id = context.team_id or deps.team_id
    channel = await prefectures.by_channel(deps.db, team_id=team_id, channel_id=channel_id)
    if channel is None:
        return
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if member is not None and member.placed_pref_code == channel.pref_code:
        await members.set_placed(deps.db, member_id=member.id, pref_code=None)


async def kenjinkai_members(ack: AsyncAck, deps: Deps, *, team_id: str, user_id: str) -> None:
    """`/kenjinkai members`: the approved members of one's own prefecture (approved members only)."""
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if member is None or member.status != "approved" or member.left_at is not None or not member.pref_code:
        await ack(response_type="ephemeral", text=deps.texts("prefectures.kenjinkai.not_registered"))
        return
    listed, total = await directory.prefecture_members(deps.db, team_id=team_id, pref_code=member.pref_code)
    await ack(
        response_type="ephemeral",
        **kenjinkai_members_message(
            deps.texts, pref_code=member.pref_code, listed=listed, total=total, profile=deps.community
        ),
    )


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_kenjinkai))
    app.event("user_change")(on_user_change)
    app.event("member_left_channel")(on_member_left_channel)
    app.command(YAKUBA, matchers=[verb("setup", "prefectures")])(answered_in_time(on_setup_prefectures, SETUP_VERB))


async def on_setup_prefectures(ack: AsyncAck, command: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    """`/yakuba setup prefectures`: create or link the 47 channels (organisers only), then report."""
    deps = deps_of(context)
    texts, user_id = deps.texts, command["user_id"]
    await ack(response_type="ephemeral", text=texts("prefectures.setup.started"))
    try:
        report = await setup_prefectures(deps, team_id=context.team_id or deps.team_id, actor=user_id)
    except (ValueError, SlackApiError) as exc:
        log.warning("prefecture set-up failed: %s", type(exc).__name__)
        await respond(response_type="ephemeral", text=texts("help.error"))
        return
    await respond(
        response_type="ephemeral",
        **setup_report(
            texts, created=report.created, linked=report.linked, unchanged=report.unchanged, failures=report.failures
        ),
    )
