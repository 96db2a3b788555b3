"""Every Monday 09:00 (YAKUBA_TZ): the FAQ's gaps to the admin channel — unanswered questions, least helpful entries.

Posted through the outbox keyed by the ISO week, so two processes or a re-run post it once.
"""

from __future__ import annotations

from datetime import datetime

from bot.blocks.faq import report_message
from bot.slack.context import Deps
from schedules.job import Job, cron_slots
from storage import faqs, outbox

TOP = 10


async def run(deps: Deps, slot: datetime) -> str | None:
    channel = deps.settings.yakuba_admin_channel
    if not channel:
        return "no admin channel"
    year, week, _ = slot.astimezone(deps.settings.tz).isocalendar()
    label = f"{year}-W{week:02d}"
    unanswered = await faqs.top_unanswered(db=deps.db, team_id=deps.team_id, limit=TOP)
    unhelpful = await faqs.least_helpful(db=deps.db, team_id=deps.team_id, limit=TOP)
    if not unanswered and not unhelpful:
        return "nothing to report"
    async with deps.db.write() as session:
        new = await outbox.enqueue(
            session,
            team_id=deps.team_id,
            key=f"faq-report:{label}",
            kind="post",
            target=channel,
            payload=report_message(deps.texts, label, unanswered, unhelpful),
            now=deps.clock(),
        )
    await deps.outbox.flush()
    return f"unanswered={len(unanswered)} unhelpful={len(unhelpful)}" if new else "already posted"


# "mon", not "1": APScheduler numbers weekdays from Monday = 0, unlike crontab.
JOB = Job(name="faq_report", summary_key="faq.report.summary", run=run, slots=cron_slots("0 9 * * mon"), resumable=True)
