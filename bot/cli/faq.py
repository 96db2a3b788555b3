"""`yakuba import faqs|archives FILE` and `yakuba export faqs FILE`: progress bar, per-line report, exit status."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from bot.cli.io import console, progress, workspace
from bot.config import Settings
from bot.texts import Texts
from storage import faq_io


def print_report(report: faq_io.ImportReport, texts: Texts) -> None:
    for error in report.errors:
        line = texts("faq.import.entry", line=error.line, reason=error.message)
        console.print(f"[red]✗[/red] {escape(line)}", highlight=False, soft_wrap=True)
    summary = texts(
        "faq.import.summary",
        total=report.total,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        errors=len(report.errors),
    )
    console.print(escape(summary), highlight=False, soft_wrap=True)


async def _import(settings: Settings, path: Path, kind: str) -> int:
    """0 when every row was imported; 1 when any row (or the file) was refused — the good rows are saved."""
    run = faq_io.import_faqs if kind == "faqs" else faq_io.import_archives
    async with workspace(settings, "faq") as ws:
        try:
            with progress(f"{ws.texts('faq.import.progress')} ({kind})") as tick:
                report = await run(db=ws.deps.db, team_id=ws.team, path=path, on_progress=tick)
        except (faq_io.FormatError, OSError, UnicodeDecodeError) as exc:
            console.print(f"[red]{escape(ws.texts('faq.import.file_error', reason=str(exc)))}[/red]", soft_wrap=True)
            return 1
    print_report(report, ws.texts)
    return 1 if report.errors else 0


async def cli_import_faqs(settings: Settings, path: Path) -> int:
    return await _import(settings, path, "faqs")


async def cli_import_archives(settings: Settings, path: Path) -> int:
    return await _import(settings, path, "archives")


async def cli_export_faqs(settings: Settings, path: Path) -> int:
    async with workspace(settings, "faq", need_team=False) as ws:
        try:
            count = await faq_io.export_faqs(db=ws.deps.db, team_id=ws.team, path=path)
        except faq_io.FormatError as exc:
            raise click.ClickException(ws.texts("faq.import.file_error", reason=str(exc))) from None
    console.print(escape(ws.texts("faq.import.exported", count=count, path=str(path))), highlight=False)
    return 0
