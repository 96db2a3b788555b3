"""`yakuba disaster replay FILE`: a saved JMA telegram posted as a drill, so a community can rehearse a check-in."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.io import running
from bot.config import OperatorError, Settings, operator_language
from bot.services.disaster import replay
from bot.texts import Texts
from storage.jma import Intensity, JmaXmlError, Quake, parse_telegram


def read_telegram(path: Path) -> Quake:
    """The file as a seismic telegram, or one line saying why it is not one (before anything starts)."""
    try:
        data = path.read_bytes()
    except OSError:
        raise OperatorError("cli.disaster.no_file", file=str(path)) from None
    try:
        quake = parse_telegram(data)
    except JmaXmlError as exc:
        raise OperatorError("cli.disaster.bad_file", file=str(path), reason=exc.reason) from None
    if not quake.prefectures and not quake.is_cancellation:
        raise OperatorError("cli.disaster.bad_file", file=str(path), reason="no intensities")
    return quake


async def cli_replay(settings: Settings, quake: Quake) -> int:
    async with running(settings) as yakuba:
        outcome = await replay(yakuba.deps, quake, now=yakuba.deps.clock())
    texts = Texts(operator_language(), markup=False)
    if outcome.posted:
        click.echo(texts("disaster.replay.done", count=outcome.posted, event=quake.event_id))
    else:
        level = Intensity(settings.yakuba_disaster_min_intensity)
        click.echo(texts("disaster.replay.none", intensity=texts(f"disaster.intensity.{level.code}")))
    return 0
