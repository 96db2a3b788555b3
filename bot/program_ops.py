"""`yakuba import programs FILE`: the programme catalogue from YAML, with a progress bar and a report."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import select

from bot.config import Settings
from bot.slack_users import user_checker
from bot.texts import Texts
from storage.db import Database
from storage.models import Member, Program
from storage.program_io import ImportReport, import_programs

console = Console()


async def known_team(db: Database) -> str:
    """Without a token: the one workspace this database already holds, else ""."""
    teams: set[str] = set()
    async with db.read() as session:
        for column in (Program.team_id, Member.team_id):
            teams.update(t for t in await session.scalars(select(column).distinct()) if t)
    return teams.pop() if len(teams) == 1 else ""


def print_report(report: ImportReport, texts: Texts) -> None:
    if report.file_error is not None:
        reason = texts(report.file_error.key, **report.file_error.params)
        console.print(f"[red]{escape(texts('programs.import.file_error', reason=reason))}[/red]", soft_wrap=True)
        return
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
    from bot.operations import running

    texts = Texts(settings.yakuba_lang)
    online = bool(settings.slack_bot_token)
    if not online:
        console.print(f"[yellow]{escape(texts('programs.import.no_token'))}[/yellow]", soft_wrap=True)
    async with running(settings, need_slack=online) as yakuba:
        deps = yakuba.deps
        team = deps.team_id or await known_team(deps.db)
        if not team:
            raise click.ClickException(texts("programs.import.unknown_team"))
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(texts("programs.import.progress"), total=None)
            report = await import_programs(
                db=deps.db,
                team_id=team,
                source=path,
                user_exists=user_checker(deps.client) if online else None,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    print_report(report, texts)
    return 0 if report.ok else 1
