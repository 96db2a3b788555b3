"""Every scheduled job, in one list: features add theirs here."""

from __future__ import annotations

from schedules import maintenance
from schedules.job import Job

JOBS: list[Job] = [maintenance.JOB]
