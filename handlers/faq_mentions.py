"""Answers to mentions in channels and to DMs: in the asker's thread when sure, else "I do not know".

Registered by handlers/faq.py. A reply goes through the outbox keyed by the asked message, so Slack
re-sending the event under a new event_id (once_per_event catches the same id) never answers twice.
"""

from __future__ import annotations

import logging
import re

from slack_sdk.errors import SlackApiError

from bot.blocks.faq import answer_message, dont_know_message, notice
from bot.slack.context import Deps, deps_of
from bot.slack.events import once_per_event
from bot.slack.permissions import is_organizer
from storage import faq_channels, faqs, outbox

log = logging.getLogger(__name__)

RELEVANT = 0.3  # a hit scoring below this is not worth showing at all (its words barely overlap)
MEMBERS = ("public", "members")
EVERYONE = (*MEMBERS, "organisers")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


async def visibilities(deps: Deps, user_id: str, *, private: bool) -> tuple[str, ...]:
    """Organisers-only entries are shown to organisers, and only where nobody else reads along."""
    return EVERYONE if private and await is_organizer(deps, user_id) else MEMBERS


def question_of(text: str, bot_user_id: str) -> str:
    """The question without the bot's mention (other mentions are dropped too: they are not search words)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    return " ".join(_MENTION.sub(" ", text).split())


async def reply(deps: Deps, *, team: str, channel: str, ts: str, thread_ts: str, user: str, question: str,
                private: bool) -> None:  # fmt: skip
    texts = deps.texts
    if not question:
        payload = notice(texts("faq.categories.hint"))
    else:
        shown = await visibilities(deps, user, private=private)
        hits = await faqs.search(db=deps.db, team_id=team, query=question, limit=3, visibilities=shown)
        if hits and hits[0].confident:
            payload = answer_message(texts, hits[0].faq)
        else:
            # Never a guess: the best hit is not clearly right, so say so and offer the organisers.
            row = await faqs.log_unanswered(db=deps.db, team_id=team, question=question)
            related = [h.faq for h in hits if h.score >= RELEVANT]
            payload = dont_know_message(texts, related, row.id if row else None)
    async with deps.db.write() as session:
        await outbox.enqueue(session, team_id=team, key=f"faq-reply:{channel}:{ts}", kind="post", target=channel,
                             payload={**payload, "thread_ts": thread_ts}, now=deps.clock())  # fmt: skip
    deps.outbox.kick()


def _bot(deps: Deps, context) -> str:
    return getattr(context, "bot_user_id", None) or deps.bot_user_id


async def on_app_mention(event: dict, context) -> None:
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
    await reply(deps, team=team, channel=channel, ts=ts, thread_ts=event.get("thread_ts") or ts, user=user,
                question=question_of(str(event.get("text") or ""), bot), private=False)  # fmt: skip


async def on_message(event: dict, context) -> None:
    """DMs to the bot only; edits, joins and other subtypes, and every bot's messages are ignored."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    deps = deps_of(context)
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)) or user == _bot(deps, context):
        return
    await reply(deps, team=context.team_id or deps.team_id, channel=channel, ts=ts,
                thread_ts=event.get("thread_ts") or ts, user=user,
                question=question_of(str(event.get("text") or ""), _bot(deps, context)), private=True)  # fmt: skip


def register(app) -> None:
    app.event("app_mention")(once_per_event(on_app_mention))
    app.event("message")(once_per_event(on_message))
