"""What the CLI's commands share: the one console, a started app, the workspace, the progress bar."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import select

from bot.app import Yakuba, create_app
from bot.config import ConfigError, OperatorError, Settings
from bot.slack.context import Deps
from bot.texts import Texts
from storage import migrate
from storage.db import Database
from storage.io_errors import FileProblem
from storage.models import Archive, Faq, Member, Program, Section

console = Console()  # the CLI's one rich console

# Any of these tells which workspace an offline database belongs to.
TEAM_COLUMNS = (Member.team_id, Program.team_id, Section.team_id, Faq.team_id, Archive.team_id)


async def known_team(db: Database) -> str:
    """Without a token: the one workspace this database already holds, else ""."""
    teams: set[str] = set()
    async with db.read() as session:
        for column in TEAM_COLUMNS:
            teams.update(t for t in await session.scalars(select(column).distinct()) if t)
    return teams.pop() if len(teams) == 1 else ""


@asynccontextmanager
async def running(settings: Settings, *, need_slack: bool = True) -> AsyncIterator[Yakuba]:
    """A started app without the ticker: migrated database and, when Slack is needed, our identity."""
    if need_slack:
        settings.require("SLACK_BOT_TOKEN")
    yakuba = create_app(settings)
    try:
        await yakuba.start(schedule=False) if need_slack else await _migrate_only(yakuba)
        yield yakuba
        await yakuba.deps.drain()
    finally:
        await yakuba.close()


async def _migrate_only(yakuba: Yakuba) -> None:
    await migrate.upgrade(yakuba.deps.db)
    # Offline there is no auth.test: per-team data (e.g. programme reminder slots) is read for the one
    # workspace this database holds.
    yakuba.deps.team_id = yakuba.deps.team_id or await known_team(yakuba.deps.db)


@dataclass
class Session:
    deps: Deps
    team: str
    online: bool
    texts: Texts


@asynccontextmanager
async def workspace(settings: Settings, feature: str, *, need_team: bool = True) -> AsyncIterator[Session]:
    """A started app for a CLI command; offline (no token) it warns once and works on the database alone.

    Texts `<feature>.import.no_token` and `<feature>.import.unknown_team` say so in the operator's language.
    """
    texts = Texts(settings.yakuba_lang, markup=False)
    online = bool(settings.slack_bot_token)
    if not online:
        console.print(f"[yellow]{escape(texts(f'{feature}.import.no_token'))}[/yellow]", soft_wrap=True)
    async with running(settings, need_slack=online) as yakuba:
        team = yakuba.deps.team_id or await known_team(yakuba.deps.db)
        if need_team and not team:
            raise ConfigError(f"{feature}.import.unknown_team")
        yield Session(deps=yakuba.deps, team=team, online=online, texts=texts)


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """A file that cannot be read at all, as one operator line naming it (and the line, when known)."""
    try:
        yield
    except FileProblem as exc:
        raise OperatorError(exc.key, file=str(path), **exc.params) from exc
    except FileNotFoundError as exc:
        raise OperatorError("cli.import.missing", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise OperatorError("cli.import.not_utf8", file=str(path)) from exc
    except OSError as exc:
        raise OperatorError("cli.import.unreadable", file=str(path)) from exc


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar; the callback takes (done, total) as the importers report it."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
