"""Disaster check-ins: `/kenjinkai checkin [message]`, the 無事です / 参集・対応中 / 支援が必要 buttons, 状況を見る."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.common import notice, row_id
from bot.blocks.disaster import ANSWER_ACTION, VIEW_ACTION, answers_view, status_label
from bot.services.disaster import answer, may_see, start_manual
from bot.slack.commands import answered_in_time
from bot.slack.context import deps_of
from bot.slack.slash import verb
from storage import disaster
from storage.disaster import STATUSES

KENJINKAI = "/kenjinkai"  # the verb `checkin` of /kenjinkai (declared in handlers/prefectures.py)


async def on_checkin_command(ack: AsyncAck, command: dict, context: AsyncBoltContext) -> None:
    """Organisers and the prefecture's leads, in its 県人会 channel; the rest of the text is the message."""
    deps = deps_of(context)
    message = str(command.get("text") or "").strip()[len("checkin") :].strip()
    key, _ = await start_manual(
        deps,
        team_id=context.team_id or deps.team_id,
        user_id=command["user_id"],
        channel_id=str(command.get("channel_id") or ""),
        message=message,
        request_key=str(command.get("trigger_id") or ""),
    )
    await ack(response_type="ephemeral", **notice(deps.texts(key)))


def _team(body: dict, context: AsyncBoltContext, fallback: str) -> str:
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    return context.team_id or team.get("id") or fallback


async def on_answer(ack: AsyncAck, body: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    action = (body.get("actions") or [{}])[0]
    status = str(action.get("action_id") or "").rpartition(".")[2]
    checkin_id = row_id(action.get("value"))
    team_id = _team(body, context, deps.team_id)
    done = None
    if checkin_id is not None and status in STATUSES:
        done = await answer(deps, team_id=team_id, checkin_id=checkin_id, user_id=body["user"]["id"], status=status)
    if done is None:
        await respond(replace_original=False, response_type="ephemeral", **notice(deps.texts("disaster.press.gone")))
        return
    text = (
        deps.texts("disaster.press.need_help")
        if status == "need_help"
        else deps.texts("disaster.press.recorded", status=status_label(deps.texts, status))
    )
    await respond(replace_original=False, response_type="ephemeral", **notice(text))


async def on_view(
    ack: AsyncAck, body: dict, context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond
) -> None:
    """状況を見る: the modal opens only for organisers and the prefecture's leads (checked here, not in the UI)."""
    await ack()
    deps = deps_of(context)
    action = (body.get("actions") or [{}])[0]
    checkin_id = row_id(action.get("value"))
    checkin = await disaster.get(deps.db, checkin_id=checkin_id) if checkin_id is not None else None
    team_id = _team(body, context, deps.team_id)
    user_id = body["user"]["id"]
    if checkin is None or checkin.team_id != team_id:
        return
    if not await may_see(deps, team_id=team_id, user_id=user_id, pref_code=checkin.pref_code):
        await respond(
            replace_original=False, response_type="ephemeral", **notice(deps.texts("disaster.answers.refused"))
        )
        return
    answers = await disaster.answers(deps.db, checkin_id=checkin.id)
    await client.views_open(trigger_id=body["trigger_id"], view=answers_view(deps.texts, checkin, answers))


def register(app: AsyncApp) -> None:
    app.command(KENJINKAI, matchers=[verb("checkin")])(answered_in_time(on_checkin_command))
    app.action(re.compile(rf"^{re.escape(ANSWER_ACTION)}\.({'|'.join(STATUSES)})$"))(on_answer)
    app.action(VIEW_ACTION)(on_view)
