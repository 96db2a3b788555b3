"""Answers to mentions in channels and to DMs: in the asker's thread when sure, else "I do not know".

The reply itself is bot/services/faq.py. A reply goes through the outbox keyed by the asked message, so Slack
re-sending the event under a new event_id (once_per_event catches the same id) never answers twice.
"""

from __future__ import annotations

import logging

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.blocks.common import notice
from bot.services.faq import question_of, reply
from bot.slack.context import Deps, deps_of
from bot.slack.events import once_per_event
from storage import faq_channels

log = logging.getLogger(__name__)


def _bot(deps: Deps, context) -> str:
    return getattr(context, "bot_user_id", None) or deps.bot_user_id


async def on_app_mention(event: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    bot = _bot(deps, context)
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)) or event.get("bot_id"):
        return
    if user == bot:
        return
    team = context.team_id or deps.team_id
    if not await faq_channels.auto_answer(db=deps.db, team_id=team, channel_id=channel):
        try:
            await deps.client.chat_postEphemeral(
                channel=channel, user=user, **notice(deps.texts("faq.mention.auto_off"))
            )
        except SlackApiError as exc:
            log.warning("auto-answer-off notice not shown: %s", exc.response.get("error"))
        return
    await reply(
        deps,
        team=team,
        channel=channel,
        ts=ts,
        thread_ts=event.get("thread_ts") or ts,
        user=user,
        question=question_of(str(event.get("text") or ""), bot),
        private=False,
    )


async def on_message(event: dict, context: AsyncBoltContext) -> None:
    """DMs to the bot only; edits, joins and other subtypes, and every bot's messages are ignored."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    deps = deps_of(context)
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)) or user == _bot(deps, context):
        return
    await reply(
        deps,
        team=context.team_id or deps.team_id,
        channel=channel,
        ts=ts,
        thread_ts=event.get("thread_ts") or ts,
        user=user,
        question=question_of(str(event.get("text") or ""), _bot(deps, context)),
        private=True,
    )


def register(app) -> None:
    app.event("app_mention")(once_per_event(on_app_mention))
    app.event("message")(once_per_event(on_message))
