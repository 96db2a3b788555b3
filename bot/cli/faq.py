"""`yakuba import faqs|archives FILE` and `yakuba export faqs FILE`: progress bar, per-line report, exit status."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from bot.cli.io import console, progress, reading, workspace
from bot.config import Settings
from bot.texts import Texts
from storage import faq_io


def print_report(report: faq_io.ImportReport, texts: Texts) -> None:
    for error in report.errors:
        line = texts("faq.import.entry", line=error.line, reason=texts(error.key, **error.params))
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
    """0 when every row was imported; 1 when any row was refused (the good rows are saved).

    A file that cannot be read at all raises OperatorError (the CLI prints one line, exit status 1).
    """
    run = faq_io.import_faqs if kind == "faqs" else faq_io.import_archives
    async with workspace(settings, "faq") as ws:
        with reading(path), progress(f"{ws.texts('faq.import.progress')} ({kind})") as tick:
            report = await run(db=ws.deps.db, team_id=ws.team, path=path, on_progress=tick)
    print_report(report, ws.texts)
    return 1 if report.errors else 0


async def cli_import_faqs(settings: Settings, path: Path) -> int:
    return await _import(settings, path, "faqs")


async def cli_import_archives(settings: Settings, path: Path) -> int:
    return await _import(settings, path, "archives")


async def cli_export_faqs(settings: Settings, path: Path) -> int:
    async with workspace(settings, "faq", need_team=False) as ws:
        with reading(path):
            count = await faq_io.export_faqs(db=ws.deps.db, team_id=ws.team, path=path)
    console.print(escape(ws.texts("faq.import.exported", count=count, path=str(path))), highlight=False)
    return 0
