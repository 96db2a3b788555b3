"""Every night: anonymise members who left more than YAKUBA_ANONYMISE_AFTER_DAYS ago (APPI: keep no longer
than needed), and remove disaster check-in answers older than YAKUBA_CHECKIN_RETENTION_DAYS. Each erase is the
same as `/mydata forget`, so running a slot twice changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.services.privacy import forget_member
from bot.slack.context import Deps
from schedules.job import Job, cron_slots
from storage import disaster, privacy

BATCH = 500


async def run(deps: Deps, slot: datetime) -> str | None:
    before = slot - timedelta(days=deps.settings.yakuba_anonymise_after_days)
    done = 0
    while user_ids := await privacy.left_before(deps.db, team_id=deps.team_id, before=before, limit=BATCH):
        for user_id in user_ids:
            await forget_member(deps, team_id=deps.team_id, user_id=user_id, actor="job:privacy")
            done += 1
    kept_from = slot - timedelta(days=deps.settings.yakuba_checkin_retention_days)
    answers = await disaster.purge(deps.db, team_id=deps.team_id, before=kept_from)
    return f"anonymised={done} checkin_answers_removed={answers}"


JOB = Job(name="privacy", summary_key="privacy.job.summary", run=run, slots=cron_slots("15 3 * * *"), resumable=True)
