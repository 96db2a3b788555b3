"""FAQ answers shared by /faq and the mention/DM replies: who sees what, and the reply to a question asked."""

from __future__ import annotations

import logging
import re

from slack_sdk.errors import SlackApiError

from bot.blocks.common import notice
from bot.blocks.faq import answer_message, answered_dm, dont_know_message, forwarded_message
from bot.slack.context import Deps
from bot.slack.permissions import is_organizer
from storage import faqs, outbox
from storage.faqs import Taught

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


async def reply(
    deps: Deps, *, team: str, channel: str, ts: str, thread_ts: str, user: str, question: str, private: bool
) -> None:
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
        await outbox.enqueue(
            session,
            team_id=team,
            key=f"faq-reply:{channel}:{ts}",
            kind="post",
            target=channel,
            payload={**payload, "thread_ts": thread_ts},
            now=deps.clock(),
        )
    deps.outbox.kick()


def forward_key(asker_id: int) -> str:
    """The outbox key of the admin card one member's forwarded question became (once per question and member)."""
    return f"faq-forward:{asker_id}"


async def forward(deps: Deps, *, team: str, unanswered_id: int, user: str, channel: str) -> bool:
    """Send a member's question to the organisers' channel; False when this member had sent it before."""
    row = await faqs.get_unanswered(db=deps.db, team_id=team, unanswered_id=unanswered_id)
    if row is None:
        return False
    async with deps.db.write() as session:
        asker = await faqs.add_asker(session, team_id=team, unanswered_id=row.id, user_id=user)
        new = asker is not None and await outbox.enqueue(
            session,
            team_id=team,
            key=forward_key(asker.id),
            kind="post",
            target=channel,
            payload=forwarded_message(deps.texts, row, user),
            now=deps.clock(),
        )
    deps.outbox.kick()
    return new


async def teach(deps: Deps, *, team: str, unanswered_id: int, faq_id: int, by: str) -> Taught | None:
    """An organiser answered a forwarded question with an entry: teach the alias, tell each asker once.

    One transaction marks the askers told and queues their DMs (keyed per asker, so a retried click or a
    second organiser never sends twice). The admin cards are updated after the commit (show_answered).
    """
    async with deps.db.write() as session:
        taught = await faqs.teach(
            session, team_id=team, unanswered_id=unanswered_id, faq_id=faq_id, by=by, now=deps.clock()
        )
        if taught is None:
            return None
        for asker in taught.tell:
            await outbox.enqueue(
                session,
                team_id=team,
                key=f"faq-answered:{asker.id}",
                kind="dm",
                target=asker.user_id,
                payload=answered_dm(deps.texts, taught.question.question, taught.faq),
                now=deps.clock(),
            )
    deps.outbox.kick()
    return taught


async def show_answered(deps: Deps, *, team: str, taught: Taught) -> None:
    """Every admin card of the question says it was answered, with which entry and by whom (chat.update)."""
    for asker in taught.askers:
        sent = await outbox.by_key(deps.db, team_id=team, key=forward_key(asker.id))
        if sent is None or not sent.ts or not sent.channel:
            continue  # not posted yet: nothing to update (it was queued before the answer)
        payload = forwarded_message(
            deps.texts,
            taught.question,
            asker.user_id,
            answer=taught.faq,
            by=asker.answered_by,
            alias=taught.alias,
        )
        try:
            await deps.client.chat_update(channel=sent.channel, ts=sent.ts, **payload)
        except SlackApiError as exc:
            log.warning("FAQ question card not updated: %s", exc.response.get("error"))
