"""/intro on|off|status, and the 会えた / まだ / パス buttons of the check-in a week after an introduction."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.blocks.approvals import when
from bot.blocks.common import notice, row_id
from bot.blocks.help import usage_message
from bot.blocks.intro import CHECKIN_ACTION, checkin_answered, preference_label
from bot.services.intro import next_round
from bot.slack.commands import answered_in_time
from bot.slack.context import deps_of
from bot.slack.slash import SlashCommand
from storage import intro, members

# /intro: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("intro")


async def on_intro(ack: AsyncAck, command: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team_id, user_id = deps.texts, context.team_id or deps.team_id, command["user_id"]
    verb = (command.get("text") or "").strip().lower()
    if verb not in ("", "status", "on", "off"):
        await ack(response_type="ephemeral", **usage_message(texts, "intro"))
        return
    if verb == "on":
        member = await members.get(deps.db, team_id=team_id, user_id=user_id)
        if member is None or member.status != "approved" or member.left_at is not None:
            await ack(response_type="ephemeral", **notice(texts("intro.command.not_member")))
            return
        row = await intro.set_optin(deps.db, team_id=team_id, user_id=user_id, active=True)
        text = texts("intro.command.on", preference=preference_label(texts, row.preference))
    elif verb == "off":
        await intro.set_optin(deps.db, team_id=team_id, user_id=user_id, active=False)
        text = texts("intro.command.off")
    else:
        row = await intro.optin(deps.db, team_id=team_id, user_id=user_id)
        if row is None or not row.active:
            text = texts("intro.command.status_off")
        else:
            upcoming = next_round(deps.settings, deps.clock())
            after = texts("intro.command.next", when=when(upcoming, deps.settings.tz)) if upcoming else ""
            text = texts("intro.command.status_on", preference=preference_label(texts, row.preference), next=after)
    await ack(response_type="ephemeral", **notice(text))


async def on_checkin(ack: AsyncAck, body: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    action = (body.get("actions") or [{}])[0]
    answer = str(action.get("action_id") or "").rpartition(".")[2]
    seat = row_id(action.get("value"))
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    team_id = context.team_id or team.get("id") or deps.team_id
    # Only the seat's own member can answer: the update matches the clicker's id, never the button's word alone.
    if seat is None or not await intro.record_checkin(
        deps.db, team_id=team_id, seat_id=seat, user_id=body["user"]["id"], answer=answer
    ):
        await respond(replace_original=False, **notice(deps.texts("intro.checkin.gone")))
        return
    await respond(replace_original=True, **checkin_answered(deps.texts, answer))


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_intro))
    app.action(re.compile(rf"^{re.escape(CHECKIN_ACTION)}\.(met|not_yet|pass)$"))(on_checkin)
