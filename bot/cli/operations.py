"""Operator commands run from the shell (`yakuba jobs …`, imports, set-up): the same code the app runs."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from rich.table import Table

from bot.cli.events import cli_export_events, cli_import_events
from bot.cli.faq import cli_export_faqs, cli_import_archives, cli_import_faqs
from bot.cli.io import console, running
from bot.cli.programs import cli_import_programs
from bot.cli.sections import cli_export_members, cli_import_sections
from bot.config import ConfigError, OperatorError, Settings, operator_language
from bot.texts import Texts
from schedules.scheduler import Scheduler


async def list_jobs(settings: Settings) -> None:
    async with running(settings, need_slack=False) as yakuba:
        scheduler = Scheduler(yakuba.deps)
        now = yakuba.deps.clock()
        upcoming = await scheduler.upcoming(now)
        texts, tz = Texts(operator_language(), markup=False), settings.yakuba_tz
        table = Table(title=texts("cli.jobs.table.title", tz=tz))
        table.add_column(texts("cli.jobs.table.job"), style="bold", no_wrap=True)
        table.add_column(texts("cli.jobs.table.what"), overflow="fold")
        table.add_column(texts("cli.jobs.table.next", tz=tz), no_wrap=True)
        for name, job in scheduler.jobs.items():
            times = upcoming[name]
            # One time a line keeps the column narrow; a slotted job with nothing ahead says so (not "every minute").
            idle = texts("cli.jobs.every_minute" if job.slots is None else "cli.jobs.none_soon")
            when = "\n".join(t.astimezone(settings.tz).strftime("%Y-%m-%d %a %H:%M") for t in times) or idle
            table.add_row(name, texts(job.summary_key), when)
        console.print(table)


async def run_job(settings: Settings, name: str, at: datetime | None) -> None:
    async with running(settings) as yakuba:
        scheduler = Scheduler(yakuba.deps)
        job = scheduler.jobs.get(name)
        if job is None:
            raise ConfigError("cli.jobs.unknown", name=name)
        moment = at or yakuba.deps.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=settings.tz)
        results = await scheduler.tick(job, moment)
        if not results:
            console.print(
                Texts(operator_language(), markup=False)("cli.jobs.nothing_due", name=name, at=moment.isoformat())
            )
        for slot, outcome in results:
            console.print(f"{name} {slot.astimezone(settings.tz).isoformat()} → {outcome}")


# --- `yakuba import KIND FILE` / `yakuba export KIND FILE` --------------------------------------------
# Each feature adds its kind: an async function (settings, path) -> exit status.
FileOperation = Callable[[Settings, Path], Awaitable[int]]
IMPORT_KINDS = ("faqs", "archives", "programs", "sections", "events")
EXPORT_KINDS = ("members", "faqs", "events")


IMPORTERS: dict[str, FileOperation] = {
    "programs": cli_import_programs,
    "sections": cli_import_sections,
    "faqs": cli_import_faqs,
    "archives": cli_import_archives,
    "events": cli_import_events,
}
EXPORTERS: dict[str, FileOperation] = {
    "members": cli_export_members,
    "faqs": cli_export_faqs,
    "events": cli_export_events,
}


def _operation(verb: str, registry: dict[str, FileOperation], kind: str) -> FileOperation:
    operation = registry.get(kind)
    if operation is None:
        raise ConfigError(f"cli.{verb}.unknown_kind", kind=kind, kinds=", ".join(registry))
    return operation


def check_import(kind: str, path: Path) -> None:
    """Before anything starts: a kind we import and a file that is there (run time: exit status 1)."""
    _operation("import", IMPORTERS, kind)
    if not path.exists():
        raise OperatorError("cli.import.missing", file=str(path))
    if not path.is_file():
        raise OperatorError("cli.import.unreadable", file=str(path))


def check_export(kind: str, path: Path) -> None:
    """Before anything starts: a kind we export and a folder the file can be written in."""
    _operation("export", EXPORTERS, kind)
    folder = path.absolute().parent
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise OperatorError("cli.export.unwritable", file=str(path))


async def import_file(settings: Settings, kind: str, path: Path) -> int:
    check_import(kind, path)
    return await _operation("import", IMPORTERS, kind)(settings, path)


async def export_file(settings: Settings, kind: str, path: Path) -> int:
    check_export(kind, path)
    return await _operation("export", EXPORTERS, kind)(settings, path)
