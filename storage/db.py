"""The database handle: one async engine per process, SQLite tuned for several writers, sessions per call."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL + busy_timeout on every connection; we emit BEGIN ourselves so writers can say IMMEDIATE.

    pysqlite's own transaction handling is switched off (isolation_level=None): it would start
    transactions lazily and DEFERRED, and two deferred writers deadlock into SQLITE_BUSY.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted and overwritten content is zeroed, not left in free pages (the privacy erase means it).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Owns the engine. Repositories open a short session per call through `read()` or `write()`."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        # hide_parameters: an error message never carries the values of a statement (members' personal data).
        kwargs: dict = {"echo": echo, "pool_pre_ping": self.dialect != "sqlite", "hide_parameters": True}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        self.engine = create_async_engine(url, **kwargs)
        if self.dialect == "sqlite":
            _tune_sqlite(self.engine)
            # Writers take the write lock up front; readers stay DEFERRED and never block in WAL mode.
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        else:
            self._write_engine = self.engine
        self._reads = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writes = async_sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits on success and rolls back on any error: nothing half-saved."""
        async with self._writes() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write_connection(self) -> AsyncIterator:
        async with self._write_engine.begin() as conn:
            yield conn

    async def checkpoint(self) -> None:
        """After an erase: copy the WAL into the file and truncate it, so no older page image keeps erased
        values in the -wal file (secure_delete zeroes them in the file itself). PostgreSQL: nothing to do here;
        its autovacuum reclaims the old row versions."""
        if not self.is_sqlite:
            return
        async with self.engine.connect() as conn:
            busy, _, _ = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        if busy:
            log.warning("the WAL was not truncated after an erase (a reader held it): the next checkpoint will")

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - health reporting must never raise
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
