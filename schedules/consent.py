"""Every hour: when the profile's terms have a new version, ask each approved member who has not agreed, once.

The DM is queued in the outbox under a key per (member, version): a second run, a restart or another replica
finds the key taken and sends nothing, so a member is asked once per version whatever the job does.
"""

from __future__ import annotations

from datetime import datetime

from bot.blocks.consent import ask_dm
from bot.slack.context import Deps
from schedules.job import Job, cron_slots
from storage import consent, outbox

BATCH = 500


def dm_key(member_id: int, version: str) -> str:
    # The member's row id, not their Slack id: the privacy erase need not rewrite this key.
    return f"consent:{member_id}:{version}"


async def run(deps: Deps, slot: datetime) -> str | None:
    terms = deps.community.consent
    if terms is None:
        return "no terms"
    payload = ask_dm(deps.texts, consent=terms, community=deps.community_name)
    waiting = asked = last = 0
    # Page by row id: members asked before but not yet agreed stay "awaiting", so a plain LIMIT would starve the rest.
    while page := await consent.awaiting(
        deps.db, team_id=deps.team_id, version=terms.version, after_id=last, limit=BATCH
    ):
        async with deps.db.write() as session:
            for member in page:
                asked += await outbox.enqueue(
                    session,
                    now=deps.clock(),
                    team_id=deps.team_id,
                    key=dm_key(member.id, terms.version),
                    kind="dm",
                    target=member.user_id,
                    payload=payload,
                )
        waiting, last = waiting + len(page), page[-1].id
    if asked:
        await deps.outbox.flush()
    return f"waiting={waiting} asked={asked}"


JOB = Job(name="consent", summary_key="consent.job.summary", run=run, slots=cron_slots("40 * * * *"), resumable=True)
