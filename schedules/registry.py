"""Every scheduled job, in one list: features add theirs here."""

from __future__ import annotations

from schedules import (
    announcements,
    approvals,
    consent,
    digest,
    disaster,
    events,
    faq_report,
    intro,
    maintenance,
    privacy,
    reminders,
)
from schedules.job import Job

JOBS: list[Job] = [
    maintenance.JOB,
    digest.JOB,
    reminders.JOB,
    approvals.JOB,
    consent.JOB,
    announcements.JOB,
    privacy.JOB,
    faq_report.JOB,
    intro.JOB,
    intro.CHECKIN_JOB,
    disaster.JOB,
    events.JOB,
    events.TOPICS_JOB,
]
