"""FAQ answers shared by /faq and the mention/DM replies: who sees what, and the reply to a question asked."""

from __future__ import annotations

import re

from bot.blocks.common import notice
from bot.blocks.faq import answer_message, dont_know_message
from bot.slack.context import Deps
from bot.slack.permissions import is_organizer
from storage import faqs, outbox

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
