"""Who holds a lease (this process: host, pid and a nonce of its start), taking over a dead holder's rows, renewals.

The outbox, the inbox and announcement deliveries lease the rows they work on and record the holder. A row
whose holder died is normally due again when its lease runs out; a process starting on the same host knows
better and sooner: a holder there whose pid no longer runs, or that has our pid under another nonce (we are
its restart, e.g. pid 1 in a container), is gone, and its rows are released at once. Holders on other hosts
are never judged from here: their rows wait for their (short, renewed) leases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage import leases as store
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    nonce: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.nonce}"

    @classmethod
    def parse(cls, text: str | None) -> Holder | None:
        host, _, rest = (text or "").rpartition(":")
        host, _, pid = host.rpartition(":")
        if not host or not pid.isdigit() or not rest:
            return None
        return cls(host, int(pid), rest)


_me: Holder | None = None


def me() -> Holder:
    """This process; made again after a fork (the child is another holder)."""
    global _me
    if _me is None or _me.pid != os.getpid():
        _me = Holder(socket.gethostname()[:64], os.getpid(), secrets.token_hex(4))
    return _me


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True


def gone(text: str | None, *, current: Holder | None = None) -> bool:
    """Whether the holder recorded as `text` is a dead process on this host (never guessed for other hosts)."""
    holder, current = Holder.parse(text), current or me()
    if holder is None or holder.host != current.host or holder == current:
        return False
    return holder.pid == current.pid or not alive(holder.pid)


async def take_over(db: Database, *, team_id: str) -> int:
    """Make the rows of dead holders on this host due now; returns how many were released."""
    dead = [holder for holder in await store.holders(db, team_id=team_id) if gone(holder)]
    if not dead:
        return 0
    released = await store.release(db, team_id=team_id, holders=dead)
    if released:
        log.info("took over %d leased rows from %d process(es) on this host that are gone", released, len(dead))
    return released


class Renewal:
    """Renews the leases of the rows in hand every `every` seconds, so a short lease survives a slow send."""

    def __init__(self, extend: Callable[[list[int]], Awaitable[None]], every: float) -> None:
        self.extend = extend
        self.every = every
        self.held: set[int] = set()
        self._task: asyncio.Task | None = None

    def hold(self, row_id: int) -> None:
        self.held.add(row_id)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lease.renewal")

    def drop(self, row_id: int) -> None:
        self.held.discard(row_id)
        if not self.held and self._task is not None:
            self._task.cancel()  # nothing left to renew: no beat lingers after the work
            self._task = None

    async def _run(self) -> None:
        while self.held:
            await asyncio.sleep(self.every)
            if not self.held:
                return
            try:
                await self.extend(sorted(self.held))
            except Exception as exc:  # noqa: BLE001 - the database is away: the next beat tries again
                log.warning("leases not renewed (%s)", type(exc).__name__)

    async def stop(self) -> None:
        self.held.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
