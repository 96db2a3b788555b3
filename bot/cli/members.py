"""`yakuba setup prefectures` and `yakuba members sync`: the services run on a started app."""

from __future__ import annotations

from collections.abc import Callable

from bot.cli.io import running
from bot.config import Settings
from bot.services.membership import SyncReport, sync_members
from bot.services.prefectures import SetupReport, setup_prefectures


async def cli_setup_prefectures(settings: Settings) -> SetupReport:
    async with running(settings) as yakuba:
        return await setup_prefectures(yakuba.deps, team_id=yakuba.deps.team_id)


async def cli_sync_members(settings: Settings, *, progress: Callable[[SyncReport], None] | None = None) -> SyncReport:
    async with running(settings) as yakuba:
        return await sync_members(yakuba.deps, team_id=yakuba.deps.team_id, progress=progress)
