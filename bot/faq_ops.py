"""`yakuba import faqs|archives FILE` and `yakuba export faqs FILE`: progress bar, per-line report, exit status."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import select

from bot.config import Settings
from bot.program_ops import known_team
from bot.texts import Texts
from storage import faq_io
from storage.db import Database
from storage.models import Archive, Faq

console = Console()


async def knowledge_team(db: Database) -> str:
    """Without a token: the one workspace this database holds (members, programmes, FAQ or archives)."""
    team = await known_team(db)
    if team:
        return team
    teams: set[str] = set()
    async with db.read() as session:
        for column in (Faq.team_id, Archive.team_id):
            teams.update(t for t in await session.scalars(select(column).distinct()) if t)
    return teams.pop() if len(teams) == 1 else ""


def print_report(report: faq_io.ImportReport, texts: Texts) -> None:
    for error in report.errors:
        line = texts("faq.import.entry", line=error.line, reason=error.message)
        console.print(f"[red]✗[/red] {escape(line)}", highlight=False, soft_wrap=True)
    summary = texts("faq.import.summary", total=report.total, created=report.created, updated=report.updated,
                    unchanged=report.unchanged, errors=len(report.errors))  # fmt: skip
    console.print(escape(summary), highlight=False, soft_wrap=True)


async def _import(settings: Settings, path: Path, kind: str) -> int:
    """0 when every row was imported; 1 when any row (or the file) was refused — the good rows are saved."""
    from bot.operations import running

    texts = Texts(settings.yakuba_lang)
    online = bool(settings.slack_bot_token)
    if not online:
        console.print(f"[yellow]{escape(texts('faq.import.no_token'))}[/yellow]", soft_wrap=True)
    async with running(settings, need_slack=online) as yakuba:
        deps = yakuba.deps
        team = deps.team_id or await knowledge_team(deps.db)
        if not team:
            raise click.ClickException(texts("faq.import.unknown_team"))
        run = faq_io.import_faqs if kind == "faqs" else faq_io.import_archives
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
                task = bar.add_task(f"{texts('faq.import.progress')} ({kind})", total=None)
                report = await run(
                    db=deps.db,
                    team_id=team,
                    path=path,
                    on_progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        except (faq_io.FormatError, OSError, UnicodeDecodeError) as exc:
            console.print(f"[red]{escape(texts('faq.import.file_error', reason=str(exc)))}[/red]", soft_wrap=True)
            return 1
    print_report(report, texts)
    return 1 if report.errors else 0


async def cli_import_faqs(settings: Settings, path: Path) -> int:
    return await _import(settings, path, "faqs")


async def cli_import_archives(settings: Settings, path: Path) -> int:
    return await _import(settings, path, "archives")


async def cli_export_faqs(settings: Settings, path: Path) -> int:
    from bot.operations import running

    texts = Texts(settings.yakuba_lang)
    async with running(settings, need_slack=False) as yakuba:
        team = yakuba.deps.team_id or await knowledge_team(yakuba.deps.db)
        try:
            count = await faq_io.export_faqs(db=yakuba.deps.db, team_id=team, path=path)
        except faq_io.FormatError as exc:
            raise click.ClickException(texts("faq.import.file_error", reason=str(exc))) from None
    console.print(escape(texts("faq.import.exported", count=count, path=str(path))), highlight=False)
    return 0
