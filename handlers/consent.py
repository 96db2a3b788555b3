"""Consent history: the 同意する button of the terms DM records the version agreed to and when."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.blocks.common import notice
from bot.blocks.consent import AGREE, agreed_dm
from bot.slack.context import deps_of
from storage import consent

log = logging.getLogger(__name__)


async def on_agree(ack: AsyncAck, body: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    action = (body.get("actions") or [{}])[0]
    version = str(action.get("value") or "") if isinstance(action, dict) else ""
    terms = deps.community.consent
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    team_id = context.team_id or team.get("id") or deps.team_id
    if terms is None or version != terms.version:
        # An older DM: agreeing to replaced terms would record a version nobody asks for any more.
        reply = notice(deps.texts("consent.press.outdated"))
        await _respond(respond, replace_original=False, response_type="ephemeral", **reply)
        return
    outcome = await consent.agree(
        deps.db, team_id=team_id, user_id=body["user"]["id"], version=version, now=deps.clock()
    )
    if outcome == "unknown":
        reply = notice(deps.texts("consent.press.unknown"))
        await _respond(respond, replace_original=False, response_type="ephemeral", **reply)
        return
    # The DM itself becomes the receipt: the button is gone, so it cannot be pressed again by mistake.
    await _respond(respond, replace_original=True, **agreed_dm(deps.texts, version=version))


async def _respond(respond: AsyncRespond, **reply: object) -> None:
    try:
        await respond(**reply)
    except Exception as exc:  # noqa: BLE001 - the agreement is recorded; an expired response_url loses only the echo
        log.warning("consent reply failed: %s", type(exc).__name__)


def register(app: AsyncApp) -> None:
    app.action(AGREE)(on_agree)
