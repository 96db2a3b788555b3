"""`yakuba import programs FILE`: the programme catalogue from YAML, with a progress bar and a report."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from bot.cli.io import console, progress, reading, workspace
from bot.config import OperatorError, Settings
from bot.slack.users import user_checker
from bot.texts import Texts
from storage.program_io import ImportReport, import_programs


def print_report(report: ImportReport, texts: Texts) -> None:
    for entry in report.errors:
        for problem in entry.problems:
            line = texts(
                "programs.import.entry",
                index=entry.index,
                line=entry.line if entry.line is not None else "?",
                name=entry.name or "",
                reason=texts(problem.key, **problem.params),
            )
            console.print(f"[red]✗[/red] {escape(line)}", highlight=False, soft_wrap=True)
    summary = texts(
        "programs.import.summary",
        total=report.total,
        created=len(report.created),
        updated=len(report.updated),
        unchanged=len(report.unchanged),
        errors=len(report.errors),
    )
    console.print(escape(summary), highlight=False, soft_wrap=True)


async def cli_import_programs(settings: Settings, path: Path) -> int:
    """Exit status 0 when every entry was imported, 1 when any was refused (the good ones are saved)."""
    async with workspace(settings, "programs") as ws:
        with reading(path), progress(ws.texts("programs.import.progress")) as tick:
            report = await import_programs(
                db=ws.deps.db,
                team_id=ws.team,
                source=path,
                user_exists=user_checker(ws.deps.client) if ws.online else None,
                on_progress=tick,
            )
    if report.file_error is not None:
        raise OperatorError(report.file_error.key, file=str(path), **report.file_error.params)
    print_report(report, ws.texts)
    return 0 if report.ok else 1
