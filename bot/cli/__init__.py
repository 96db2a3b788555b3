"""The `yakuba` command (also `python -m bot`): run modes, database, set-up, import/export and jobs.

Each command imports what it runs inside its own function. This is the project's one place of function-level
imports, on purpose: `import bot.cli` costs about 1.1 s and 37 MB, every command's modules together 7-11 s and
106 MB on the 2-core machine (`/usr/bin/time python -c "import bot.cli, bot.server, bot.local.demo, ..."`), and a
mistyped command or a missing token must be answered before that. import-linter still sees these imports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import click

from bot.config import ConfigError, OperatorError, Settings, load_settings, operator_language
from bot.texts import Texts

# Long enough for a database across a network to answer, short enough that a wrong host is reported soon.
DATABASE_PROBE_SECONDS = 10.0


def _settings(*required: str, database: bool = True, community: bool = False) -> Settings:
    """The settings, checked before anything starts: the variables a command needs, the community profile
    (for the commands that run the bot), and the database.

    Commands call this before importing the app, so a mistake is reported before seconds of imports.
    """
    settings = load_settings()
    settings.require(*required)
    if community:
        _check_community(settings)
    if database:
        _check_database(settings)
    return settings


def _check_community(settings: Settings) -> None:
    """A wrong YAKUBA_COMMUNITY profile stops the command with one line naming the key and the reason."""
    from bot.cli.profile import load_profile

    load_profile(settings.yakuba_community)


def _check_database(settings: Settings) -> None:
    settings.check_database_url()
    asyncio.run(_reach_database(settings))


async def _reach_database(settings: Settings) -> None:
    """One line for a database that cannot be opened, instead of a driver's traceback from deep inside."""
    path = settings.sqlite_path()
    if path is not None:
        # SQLite creates its file on first use: check the folder instead of leaving an empty file behind.
        folder = path.absolute().parent
        if not folder.is_dir():
            raise OperatorError("cli.database.no_folder", folder=str(folder))
        if not os.access(path if path.exists() else folder, os.W_OK):
            raise OperatorError("cli.database.read_only", path=str(path))
        if not path.exists():
            return
    from storage.db import Database

    where = settings.check_database_url().render_as_string(hide_password=True)
    database = Database(settings.database_url)
    try:
        reached = await asyncio.wait_for(database.ping(), DATABASE_PROBE_SECONDS)
    except TimeoutError:
        reached = False
    finally:
        await database.dispose()
    if not reached:
        raise OperatorError("cli.database.unreachable", where=where)


def _texts() -> Texts:
    """The operator's catalogue: plain text for a terminal, in YAKUBA_LANG."""
    return Texts(operator_language(), markup=False)


def _logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class OperatorGroup(click.Group):
    """Every operator mistake below this group is one line in YAKUBA_LANG; a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise  # click's own usage errors keep click's wording and exit status 2
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            ctx.exit(130)  # the shell's status for Ctrl-C, without a traceback
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            error = _operator_error(exc)
            texts = _texts()
            if error is None:
                line = texts("cli.unexpected", error=type(exc).__name__, command=ctx.invoked_subcommand or "")
                click.echo(line, err=True)
                ctx.exit(1)
            click.echo(texts(error.key, **error.params), err=True)
            ctx.exit(error.exit_code)


def _operator_error(exc: Exception) -> OperatorError | None:
    """The operator's view of an error: ours as it is, a Slack error code as one of ours, else None."""
    if isinstance(exc, OperatorError):
        return exc
    from slack_sdk.errors import SlackApiError

    from bot.slack.identity import SlackAuthError, refusal

    if isinstance(exc, SlackApiError):
        if (refused := refusal(exc)) is not None:
            return SlackAuthError(refused)
        code = str(exc.response.get("error") or exc.response.status_code)
        method = str(getattr(exc.response, "api_url", "") or "").rstrip("/").rsplit("/", 1)[-1]
        return OperatorError("cli.slack.failed", method=method, error=code)
    return None


@click.group(cls=OperatorGroup)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error instead of one line.")
def main(debug: bool) -> None:
    """yakuba (役場): the Slack bot for public-servant communities."""


@main.command()
def serve() -> None:
    """HTTP mode: POST /slack/events and GET /healthz on $PORT, scheduler in-process."""
    settings = _settings("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", community=True)
    from bot.server import serve as run

    _logging()
    run(settings)


@main.command()
def socket() -> None:
    """Socket Mode (needs SLACK_APP_TOKEN): no inbound URL, for closed networks such as LGWAN."""
    settings = _settings("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", community=True)
    from bot.socket_mode import run

    _logging()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings))


@main.command()
@click.option("--url", help="Public base URL of `yakuba serve` (request URLs end in /slack/events).")
@click.option("--socket", "socket_mode", is_flag=True, help="Socket Mode: no request URLs.")
def manifest(url: str | None, socket_mode: bool) -> None:
    """Print the Slack app manifest (YAML) to paste into "Create an app → From a manifest"."""
    from bot.cli.profile import load_profile
    from bot.manifest import manifest_yaml

    settings = _settings(database=False)
    community = load_profile(settings.yakuba_community)  # a wrong profile: one line, no manifest
    if not socket_mode:
        _check_request_url(url)
    click.echo(manifest_yaml(Texts(settings.yakuba_lang), url=url, socket=socket_mode, community=community), nl=False)


def _check_request_url(url: str | None) -> None:
    """Slack refuses a manifest whose request URLs are not https:// with a host: say so instead of printing one."""
    from urllib.parse import urlsplit

    if not url:
        raise ConfigError("cli.manifest.url_required")
    try:
        parts = urlsplit(url)
        good = parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in url)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        good = False
    if not good:
        raise ConfigError("cli.manifest.bad_url", url=url[:200])


@main.command()
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None)
def console(lang: str | None) -> None:
    """A local shell: you are a member of a local workspace; no Slack, no network."""
    from bot.local.console import run

    _logging(logging.WARNING)
    asyncio.run(run(_settings(community=True), lang=lang))


@main.command()
@click.option("--lang", type=click.Choice(["ja", "en"]), default=None)
@click.option("--community", "community_file", type=click.Path(path_type=Path), default=None)
def demo(lang: str | None, community_file: Path | None) -> None:
    """A scripted walk through the journeys, printed as a transcript (--community: journey 1 with that profile)."""
    from bot.local.demo import run

    _logging(logging.WARNING)
    settings = _settings(database=False)
    if community_file is not None:
        settings = settings.model_copy(update={"yakuba_community": str(community_file)})
        _check_community(settings)
    sys.exit(asyncio.run(run(settings, lang=lang)))


@main.group()
def profile() -> None:
    """The community profile (YAKUBA_COMMUNITY): who may join, the form, consent, approval, features."""


@profile.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def profile_check(file: Path) -> None:
    """Check a profile file without starting anything."""
    from bot.cli.profile import check

    click.echo(check(file))


@profile.command("show")
def profile_show() -> None:
    """Print the profile in force (YAKUBA_COMMUNITY, or the built-in one) as YAML."""
    from bot.cli.profile import show

    click.echo(show(_settings(database=False)), nl=False)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database to the newest schema."""
    settings = _settings()
    from storage import migrate
    from storage.db import Database

    async def go() -> list[str]:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await migrate.current(database)
        finally:
            await database.dispose()

    click.echo(_texts()("cli.db.upgraded", revisions=", ".join(asyncio.run(go()))))


@db.command("recount")
def db_recount() -> None:
    """Rebuild the statistics counters (member_counts, member_approvals) from the register."""
    settings = _settings()
    from storage import member_counts, migrate
    from storage.db import Database

    texts = Texts(settings.yakuba_lang, markup=False)

    async def go() -> member_counts.Recount:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await member_counts.recount(database)
        finally:
            await database.dispose()

    click.echo(texts("cli.recount.started"))
    started = time.perf_counter()
    done = asyncio.run(go())
    seconds = f"{time.perf_counter() - started:.1f}"
    click.echo(
        texts(
            "cli.recount.done",
            members=f"{done.members:,}",
            groups=f"{done.groups:,}",
            buckets=f"{done.buckets:,}",
            seconds=seconds,
        )
    )


@main.group()
def jobs() -> None:
    """Scheduled jobs."""


@jobs.command("list")
def jobs_list() -> None:
    """Every job and its next fire times in YAKUBA_TZ."""
    settings = _settings()
    from bot.cli.operations import list_jobs

    asyncio.run(list_jobs(settings))


@jobs.command("run")
@click.argument("name")
@click.option("--at", "at", help="ISO time to run for (default now), e.g. 2026-11-23T08:30+09:00.")
def jobs_run(name: str, at: str | None) -> None:
    """Run one job for a given moment, claiming its slots exactly as the scheduler does."""
    moment = None
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise ConfigError("cli.jobs.bad_time", value=at) from None
    settings = _settings("SLACK_BOT_TOKEN")
    from bot.cli.operations import run_job

    _logging(logging.WARNING)
    asyncio.run(run_job(settings, name, moment))


@main.group()
def disaster() -> None:
    """Disaster check-ins (JMA earthquake reports)."""


@disaster.command("replay")
@click.argument("file", type=click.Path(path_type=Path))
def disaster_replay(file: Path) -> None:
    """Post check-ins from a saved JMA telegram (VXSE51/VXSE53) as a drill, marked as one in every post."""
    settings = _settings("SLACK_BOT_TOKEN")
    from bot.cli.disaster import cli_replay, read_telegram

    quake = read_telegram(file)
    _logging(logging.WARNING)
    sys.exit(asyncio.run(cli_replay(settings, quake)))


@main.group()
def setup() -> None:
    """One-off set-up of the workspace."""


@setup.command("prefectures")
def setup_prefectures() -> None:
    """Create or link the 47 prefecture channels (YAKUBA_PREFECTURE_CHANNEL_PATTERN) and record them."""
    settings = _settings("SLACK_BOT_TOKEN")
    from bot.cli.members import cli_setup_prefectures
    from bot.services.prefectures import channel_names

    pattern = settings.yakuba_prefecture_channel_pattern
    try:
        channel_names(pattern)
    except ValueError:
        raise ConfigError("cli.config.invalid.yakuba_prefecture_channel_pattern", value=pattern[:60]) from None
    _logging(logging.WARNING)
    report = asyncio.run(cli_setup_prefectures(settings))
    texts = _texts()
    click.echo(
        texts(
            "cli.setup.prefectures",
            created=report.created,
            linked=report.linked,
            unchanged=report.unchanged,
            failed=len(report.failures),
        )
    )
    for name, error in report.failures:
        click.echo(texts("cli.setup.prefecture_failed", name=name, error=error), err=True)
    if report.failures:
        sys.exit(1)


@main.group()
def members() -> None:
    """Members of the workspace."""


@members.command("sync")
def members_sync() -> None:
    """Record everyone already in the workspace (users.list, paginated, rate-limit aware); DMs no one."""
    settings = _settings("SLACK_BOT_TOKEN")
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from bot.cli.members import cli_sync_members

    _logging(logging.WARNING)
    # The bar appears with the first page, so a failure before it (a bad token) stays one line.
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"))
    task = bar.add_task("users.list …", total=None)
    texts = _texts()

    def progress(report) -> None:
        bar.start()
        line = texts("cli.members.sync_progress", pages=report.pages, seen=report.seen, added=report.added)
        bar.update(task, description=line)

    try:
        report = asyncio.run(cli_sync_members(settings, progress=progress))
    finally:
        bar.stop()
    click.echo(
        texts(
            "cli.members.synced",
            seen=report.seen,
            added=report.added,
            changed=report.changed,
            skipped=report.skipped,
            pages=report.pages,
        )
    )


@main.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(path_type=Path))
def import_command(kind: str, file: Path) -> None:
    """Import KIND (faqs|archives|programs|sections|events) from FILE; importing again updates, never duplicates."""
    from bot.cli.operations import check_import, import_file

    settings = _settings(database=False)
    check_import(kind, file)
    _check_database(settings)
    _logging(logging.WARNING)
    sys.exit(asyncio.run(import_file(settings, kind, file)))


@main.command("export")
@click.argument("kind")
@click.argument("file", type=click.Path(path_type=Path))
def export_command(kind: str, file: Path) -> None:
    """Export KIND (members|faqs|events) to FILE."""
    from bot.cli.operations import check_export, export_file

    settings = _settings(database=False, community=True)  # the profile says which columns follow
    check_export(kind, file)
    _check_database(settings)
    _logging(logging.WARNING)
    sys.exit(asyncio.run(export_file(settings, kind, file)))
