"""`yakuba import events FILE` and `yakuba export events FILE`: progress bar, per-line report, exit status."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from bot.cli.io import console, progress, reading, workspace
from bot.cli.sections import print_report
from bot.config import OperatorError, Settings
from bot.services import events as service
from storage import event_io, sections
from storage import events as store


async def cli_import_events(settings: Settings, path: Path) -> int:
    """0 when every line was imported; 1 when any was refused (the good ones are saved).

    Online, an entry with `publish: true` is announced in its audience's channel (once), and a new archive_url
    reaches those who missed the event; offline only the database changes."""
    async with workspace(settings, "events") as ws:
        known = [s.name for s in await sections.active_sections(ws.deps.db, team_id=ws.team)]

        async def on_saved(event, outcome: str, publish: bool) -> None:
            if ws.online:
                await service.saved(ws.deps, event, outcome, publish_now=publish)

        with reading(path), progress(ws.texts("events.import.progress")) as tick:
            report = await event_io.import_events(
                db=ws.deps.db,
                team_id=ws.team,
                path=path,
                now=ws.deps.clock(),
                tz=settings.tz,
                sections=known,
                on_progress=tick,
                on_saved=on_saved,
            )
    if report.file_error is not None:
        raise OperatorError(report.file_error.key, file=str(path), **report.file_error.params)
    print_report(report, ws.texts, feature="events")
    return 0 if report.ok else 1


async def cli_export_events(settings: Settings, path: Path) -> int:
    async with workspace(settings, "events", need_team=False) as ws:
        rows = await store.every(ws.deps.db, team_id=ws.team)
    text = event_io.export_text(rows, csv_format=path.suffix.lower() == ".csv", tz=settings.tz)
    path.write_text(text, encoding="utf-8")
    count = len(event_io.to_entries(rows, settings.tz))
    console.print(escape(ws.texts("events.import.exported", count=count, path=str(path))), highlight=False)
    return 0
