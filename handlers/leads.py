"""Prefecture leads: organisers appoint (or release) the 世話役 who may announce to their own 県人会."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import leads as ids
from bot.slack.commands import answered_in_time
from bot.slack.context import deps_of
from bot.slack.permissions import is_organizer
from bot.slack.slash import YAKUBA, SlashCommand, verb
from storage import audit, members

# `/yakuba lead`: this feature's verb of the shared command (handlers.COMMANDS joins it to /yakuba).
VERB = SlashCommand(
    YAKUBA[1:],
    opens_form=frozenset({"lead"}),
    organisers={"lead": "leads.refused"},
    verb_features={"lead": "prefecture_channels"},  # leads are 県人会's
    staff=("lead",),
)


async def open_lead_form(ack: AsyncAck, command: dict, context: AsyncBoltContext, client: AsyncWebClient) -> None:
    deps = deps_of(context)
    await ack()
    await client.views_open(trigger_id=command["trigger_id"], view=ids.lead_modal(deps.texts))


async def on_lead_submit(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    values = view["state"]["values"]
    user_id = (values.get(ids.USER_BLOCK, {}).get(ids.USER) or {}).get("selected_user") or ""
    role = ((values.get(ids.ROLE_BLOCK, {}).get(ids.ROLE) or {}).get("selected_option") or {}).get("value")
    if not await is_organizer(deps, actor):  # checked again: the form could be forged
        await ack(response_action="errors", errors={ids.USER_BLOCK: deps.texts("leads.refused")})
        return
    member = await members.get(deps.db, team_id=context.team_id or deps.team_id, user_id=user_id)
    if member is None or member.status != "approved" or not member.pref_code:
        await ack(response_action="errors", errors={ids.USER_BLOCK: deps.texts("leads.not_member")})
        return
    lead = role != "release"
    await members.set_lead(deps.db, team_id=member.team_id, user_id=user_id, lead=lead)
    async with deps.db.write() as session:
        audit.record(
            session,
            team_id=member.team_id,
            actor=actor,
            action="lead.appoint" if lead else "lead.release",
            subject=user_id,
        )
    await ack(response_action="clear")


def register(app: AsyncApp) -> None:
    app.command(YAKUBA, matchers=[verb("lead")])(answered_in_time(open_lead_form, VERB))
    app.view(ids.LEAD_VIEW)(on_lead_submit)
