"""The `yakuba` command (also `python -m bot`): run modes, database, set-up, import/export and jobs."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from bot.config import ConfigError, Settings, load_settings
from bot.texts import Texts


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group()
def main() -> None:
    """yakuba (役場): the Slack bot for public-servant communities."""


@main.command()
def serve() -> None:
    """HTTP mode: POST /slack/events and GET /healthz on $PORT, scheduler in-process."""
    from bot.server import serve as run

    _logging()
    try:
        run(_settings())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
def socket() -> None:
    """Socket Mode (needs SLACK_APP_TOKEN): no inbound URL, for closed networks such as LGWAN."""
    from bot.socket_mode import run

    _logging()
    try:
        asyncio.run(run(_settings()))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--url", help="Public base URL of `yakuba serve` (request URLs end in /slack/events).")
@click.option("--socket", "socket_mode", is_flag=True, help="Socket Mode: no request URLs.")
def manifest(url: str | None, socket_mode: bool) -> None:
    """Print the Slack app manifest (YAML) to paste into "Create an app → From a manifest"."""
    from bot.manifest import manifest_yaml

    settings = _settings()
    click.echo(manifest_yaml(Texts(settings.yakuba_lang), url=url, socket=socket_mode), nl=False)


@main.command()
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None)
def console(lang: str | None) -> None:
    """A local shell: you are a member of a local workspace; no Slack, no network."""
    from bot.local.console import run

    _logging(logging.WARNING)
    asyncio.run(run(_settings(), lang=lang))


@main.command()
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None)
def demo(lang: str | None) -> None:
    """A scripted walk through the journeys, printed as a transcript."""
    from bot.local.demo import run

    _logging(logging.WARNING)
    sys.exit(asyncio.run(run(_settings(), lang=lang)))


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database to the newest schema."""
    from storage import migrate
    from storage.db import Database

    async def go() -> list[str]:
        database = Database(_settings().database_url)
        try:
            await migrate.upgrade(database)
            return await migrate.current(database)
        finally:
            await database.dispose()

    click.echo(f"database at {', '.join(asyncio.run(go()))}")


@main.group()
def jobs() -> None:
    """Scheduled jobs."""


@jobs.command("list")
def jobs_list() -> None:
    """Every job and its next fire times in YAKUBA_TZ."""
    from bot.cli.operations import list_jobs

    asyncio.run(list_jobs(_settings()))


@jobs.command("run")
@click.argument("name")
@click.option("--at", "at", help="ISO time to run for (default now), e.g. 2026-11-23T08:30+09:00.")
def jobs_run(name: str, at: str | None) -> None:
    """Run one job for a given moment, claiming its slots exactly as the scheduler does."""
    from bot.cli.operations import run_job

    moment = None
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter(f"not an ISO time: {at}", param_hint="--at") from None
    _logging(logging.WARNING)
    asyncio.run(run_job(_settings(), name, moment))


@main.group()
def setup() -> None:
    """One-off set-up of the workspace."""


@setup.command("prefectures")
def setup_prefectures() -> None:
    """Create or link the 47 prefecture channels (YAKUBA_PREFECTURE_CHANNEL_PATTERN) and record them."""
    from bot.cli.members import cli_setup_prefectures

    _logging(logging.WARNING)
    try:
        report = asyncio.run(cli_setup_prefectures(_settings()))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"created {report.created}, linked {report.linked}, unchanged {report.unchanged}, failed {len(report.failures)}"
    )
    for name, error in report.failures:
        click.echo(f"  {name}: {error}", err=True)
    if report.failures:
        sys.exit(1)


@main.group()
def members() -> None:
    """Members of the workspace."""


@members.command("sync")
def members_sync() -> None:
    """Record everyone already in the workspace (users.list, paginated, rate-limit aware); DMs no one."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from bot.cli.members import cli_sync_members

    _logging(logging.WARNING)
    with Progress(SpinnerColumn(), TextColumn("{task.description}")) as bar:
        task = bar.add_task("users.list …", total=None)

        def progress(report) -> None:
            bar.update(task, description=f"page {report.pages}: {report.seen} seen, {report.added} new")

        report = asyncio.run(cli_sync_members(_settings(), progress=progress))
    click.echo(
        f"{report.seen} members seen ({report.added} new, {report.changed} left/returned, "
        f"{report.skipped} bots skipped) in {report.pages} pages"
    )


@main.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(kind: str, file: Path) -> None:
    """Import KIND (faqs|archives|programs|sections) from FILE; importing again updates, never duplicates."""
    from bot.cli.operations import import_file

    _logging(logging.WARNING)
    sys.exit(asyncio.run(import_file(_settings(), kind, file)))


@main.command("export")
@click.argument("kind")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(kind: str, file: Path) -> None:
    """Export KIND (members|faqs) to FILE."""
    from bot.cli.operations import export_file

    _logging(logging.WARNING)
    sys.exit(asyncio.run(export_file(_settings(), kind, file)))
