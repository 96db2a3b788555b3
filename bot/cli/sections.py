"""`yakuba import sections FILE` and `yakuba export members FILE`: progress bar, per-line report, exit status."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from slack_sdk.errors import SlackApiError

from bot.cli.io import console, progress, reading, workspace
from bot.config import OperatorError, Settings
from bot.texts import Texts
from storage import directory
from storage.section_io import Report, import_sections


async def channel_names(client) -> dict[str, str]:
    """name → id of every channel the token can see (paginated), to accept `channel: writing-ka` in files."""
    names: dict[str, str] = {}
    cursor = None
    while True:
        page = await client.conversations_list(
            types="public_channel,private_channel", limit=200, cursor=cursor, exclude_archived=True
        )
        names.update({c["name"]: c["id"] for c in page.get("channels", [])})
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return names


def print_report(report: Report, texts: Texts, *, feature: str = "sections") -> None:
    """Each refused line with its reasons, then the counts (`feature`: whose catalogue says it)."""
    for line, name, problems in report.errors:
        for problem in problems:
            # A reason is a key under <feature>.import.errors, or a whole key (the programmes' recurrence words).
            reason = problem.key if "." in problem.key else f"{feature}.import.errors.{problem.key}"
            text = texts(
                f"{feature}.import.entry",
                line=line if line is not None else "?",
                name=name,
                reason=texts(reason, **problem.params),
            )
            console.print(f"[red]✗[/red] {escape(text)}", highlight=False, soft_wrap=True)
    console.print(
        escape(
            texts(
                f"{feature}.import.summary",
                total=report.total,
                created=len(report.created),
                updated=len(report.updated),
                unchanged=len(report.unchanged),
                errors=len(report.errors),
            )
        ),
        highlight=False,
        soft_wrap=True,
    )


async def cli_import_sections(settings: Settings, path: Path) -> int:
    """0 when every row was imported; 1 when any was refused (the good ones are saved)."""
    async with workspace(settings, "sections") as ws:
        names: dict[str, str] = {}
        if ws.online:
            try:
                names = await channel_names(ws.deps.client)
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                console.print(f"[yellow]{escape(ws.texts('sections.import.channels_unread', error=error))}[/yellow]")
        with reading(path), progress(ws.texts("sections.import.progress")) as tick:
            report = await import_sections(
                db=ws.deps.db, team_id=ws.team, path=path, resolve_channel=names.get, on_progress=tick
            )
    if report.file_error is not None:
        raise OperatorError(report.file_error.key, file=str(path), **report.file_error.params)
    print_report(report, ws.texts)
    return 0 if report.ok else 1


async def cli_export_members(settings: Settings, path: Path) -> int:
    async with workspace(settings, "sections", need_team=False) as ws:
        content, count = await directory.export_csv(ws.deps.db, team_id=ws.team, community=ws.deps.community)
    path.write_bytes(content)
    console.print(escape(ws.texts("sections.import.members_exported", count=count, path=str(path))), highlight=False)
    return 0
