"""The in-process search index: one team's documents of one kind as postings, kept in step with the database.

Why in memory: the candidate query in SQL (FTS5 on SQLite, LIKE on pg_trgm on PostgreSQL) and the document
frequencies it needed cost 12-120 ms per query at 100,000 entries, and PostgreSQL's scanned. Here each token
of a column (q, a, s; see engine.tokens_for) has its postings, a sorted array of slots; a query turns the
postings it needs into Python ints used as bit sets (AND, OR and popcount run in C over 100,000 bits in
microseconds), cached until the index changes. The document frequencies are counted as documents are added.

Kept correct across processes by search_generations: every write to search_docs bumps its (team, kind)
generation in the same transaction and stamps the row with it (search_docs.version). Before each search one
primary-key read says whether this process's index is behind; if so it reads only the rows stamped after its
generation and replaces those documents. A deletion bumps `resets`, which rebuilds the index from scratch.

The steps (narrow on the rarest terms in the question side, then anywhere, then fewer terms, then one bigram
missing, then any bigram) are those the FTS5 query had, with the same meaning for each token, so the eval
splits rank the same; where a step finds more than it may keep, the newest are kept, as before. (Keeping instead
those that also hold more of the query's other terms was tried: among 100,000 generated entries it chose
generated ones that share common words, tuning top-3 66.7 → 62.4 %.)
"""

from __future__ import annotations

import asyncio
import time
import weakref
from array import array
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SearchDoc, SearchGeneration

COLUMNS = ("q", "a", "s")
BITS_BUDGET = 48 * 1024 * 1024  # bytes of cached bit sets before the cache starts afresh


@dataclass
class TeamIndex:
    """Postings of one (team, kind): slot → document, token → slots per column, token → documents holding it."""

    generation: int = -1
    resets: int = -1
    checked: float = float("-inf")  # when the generation was last read (time.monotonic)
    touched: int = 0  # this process's writes to the team's documents seen by then
    refs: list[int] = field(default_factory=list)  # slot → ref_id (0 once replaced or deleted)
    docs: list[tuple[str, str, str] | None] = field(default_factory=list)  # slot → (q, a, s) token strings
    slot_of: dict[int, int] = field(default_factory=dict)  # ref_id → its live slot
    postings: dict[str, dict[str, array]] = field(default_factory=lambda: {c: {} for c in COLUMNS})
    df: Counter = field(default_factory=Counter)  # documents holding the token in any column
    alive: int = 0  # bit set of live slots
    _bits: dict[tuple[str, str], int] = field(default_factory=dict)
    _bits_bytes: int = 0

    @property
    def n(self) -> int:
        return len(self.slot_of)

    def add(self, ref_id: int, q: str, a: str, s: str) -> None:
        """Index one document (replacing its earlier version, if any)."""
        self.extend([(ref_id, q, a, s)])

    def extend(self, rows) -> None:
        """Index documents (ref_id, q, a, s), each replacing its earlier version, if any."""
        refs, docs, slot_of, df = self.refs, self.docs, self.slot_of, self.df
        pq, pa, ps = (self.postings[c] for c in COLUMNS)
        first = len(refs)
        replaced: list[int] = []
        for ref_id, q, a, s in rows:
            if ref_id in slot_of:
                replaced.append(slot_of[ref_id])
                self.remove(ref_id)
            slot = len(refs)
            refs.append(ref_id)
            docs.append((q, a, s))
            slot_of[ref_id] = slot
            tq, ta, ts = set(q.split()), set(a.split()), set(s.split())
            for toks, posting in ((tq, pq), (ta, pa), (ts, ps)):
                for tok in toks:
                    arr = posting.get(tok)
                    if arr is None:
                        arr = posting[tok] = array("I")
                    arr.append(slot)
            df.update(tq | ta | ts)
        if len(refs) > first:
            # Slots first..end are new and live.
            self.alive |= ((1 << (len(refs) - first)) - 1) << first
            for slot in replaced:  # a document given twice: its first slot of this batch is dead again
                self.alive &= ~(1 << slot)
            self._forget_bits()

    def remove(self, ref_id: int) -> None:
        slot = self.slot_of.pop(ref_id, None)
        if slot is None:
            return
        doc = self.docs[slot]
        self.docs[slot] = None
        self.refs[slot] = 0
        self.alive &= ~(1 << slot)
        if doc is not None:
            df = self.df
            for tok in set(doc[0].split()) | set(doc[1].split()) | set(doc[2].split()):
                if df[tok] > 1:
                    df[tok] -= 1
                else:
                    del df[tok]
        self._forget_bits()

    def _forget_bits(self) -> None:
        if self._bits:
            self._bits.clear()
            self._bits_bytes = 0

    def bits(self, col: str, tok: str) -> int:
        """The live slots holding `tok` in column `col` ("*": any column) as a bit set. A one-character token
        stands for every token that starts with it (FTS5's prefix query "x"*)."""
        key = (col, tok)
        got = self._bits.get(key)
        if got is not None:
            return got
        if col == "*":
            got = self.bits("q", tok) | self.bits("a", tok) | self.bits("s", tok)
        elif len(tok) == 1:
            got = 0
            for other in [t for t in self.postings[col] if t[0] == tok]:
                got |= self._from_slots(self.postings[col][other])
            got &= self.alive
        else:
            slots = self.postings[col].get(tok)
            got = self._from_slots(slots) & self.alive if slots else 0
        if self._bits_bytes > BITS_BUDGET:
            self._forget_bits()
        self._bits[key] = got
        self._bits_bytes += got.bit_length() // 8 + 32
        return got

    def _from_slots(self, slots: array) -> int:
        buf = bytearray((len(self.refs) >> 3) + 1)
        for slot in slots:
            buf[slot >> 3] |= 1 << (slot & 7)
        return int.from_bytes(buf, "little")

    def compacted(self) -> TeamIndex:
        """The same documents without the slots of replaced ones, in the same order."""
        fresh = TeamIndex()
        fresh.extend((ref, *doc) for ref, doc in zip(self.refs, self.docs, strict=True) if doc is not None)
        return fresh

    def newest(self, found: int, limit: int) -> list[int]:
        """Up to `limit` slots of a bit set, highest (most recently indexed) first."""
        out: list[int] = []
        while found and len(out) < limit:
            top = found.bit_length() - 1
            out.append(top)
            found ^= 1 << top
        return out


async def generation(session: AsyncSession, team_id: str, kind: str) -> tuple[int, int]:
    """(generation, resets) of one team's documents of one kind; (0, 0) before its first write."""
    row = (
        await session.execute(
            select(SearchGeneration.generation, SearchGeneration.resets).where(
                SearchGeneration.team_id == team_id, SearchGeneration.kind == kind
            )
        )
    ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


COMPACT_SLACK = 1024  # replaced slots tolerated (beyond as many as live ones) before an index is rebuilt


class Indexes:
    """The in-memory indexes of one process, per database engine, team and kind.

    The generation is read before a search unless it was read less than `recheck_after` seconds ago and this
    process has committed no write to the team's documents since: a write of this process is seen by its next
    search, another process's within `recheck_after`."""

    def __init__(self, recheck_after: float = 0.25) -> None:
        self.recheck_after = recheck_after
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._touched: dict[tuple[str, str], int] = {}

    def _mine(self, session: AsyncSession) -> tuple[dict[tuple[str, str], TeamIndex], dict]:
        bind = session.bind
        engine = bind.sync_engine if hasattr(bind, "sync_engine") else bind
        mine = self._by_engine.get(engine)
        if mine is None:
            mine = self._by_engine[engine] = {}
            self._locks[engine] = {}
        return mine, self._locks[engine]

    def touch_after_commit(self, session: AsyncSession, team_id: str, kind: str) -> None:
        """Once the session's transaction commits, every index of this team and kind reads the generation."""
        sync = session.sync_session
        pending: set = sync.info.setdefault("search_touched", set())
        if not pending:

            def committed(_session) -> None:
                for key in sync.info.pop("search_touched", ()):
                    self._touched[key] = self._touched.get(key, 0) + 1

            event.listen(sync, "after_commit", committed, once=True)
        pending.add((team_id, kind))

    async def get(self, session: AsyncSession, team_id: str, kind: str) -> TeamIndex:
        """The team's index, caught up with the database (one primary-key read, or none when it was read
        a moment ago; see the class)."""
        mine, locks = self._mine(session)
        key = (team_id, kind)
        index = mine.get(key)
        now, touched = time.monotonic(), self._touched.get(key, 0)
        if index is not None and index.touched == touched and now - index.checked < self.recheck_after:
            return index
        gen, resets = await generation(session, team_id, kind)
        if index is None or index.generation != gen or index.resets != resets:
            # One catch-up at a time per team: a burst of first searches builds the index once, not once each.
            lock = locks.setdefault(key, asyncio.Lock())
            async with lock:
                index = mine.get(key)
                if index is None or index.generation != gen or index.resets != resets:
                    index = await self._caught_up(session, index, team_id, kind, gen, resets)
                    mine[key] = index
        index.checked, index.touched = now, touched
        return index

    async def _caught_up(
        self, session: AsyncSession, index: TeamIndex | None, team_id: str, kind: str, gen: int, resets: int
    ) -> TeamIndex:
        # Rows are read after the generation, so a row written meanwhile is read now and again next time
        # (replacing a document by itself changes nothing).
        since = None if index is None or index.resets != resets else index.generation
        if since is None or index is None:
            index = TeamIndex()
        stmt = select(SearchDoc.ref_id, SearchDoc.q, SearchDoc.a, SearchDoc.s).where(
            SearchDoc.team_id == team_id, SearchDoc.kind == kind
        )
        if since is not None:
            stmt = stmt.where(SearchDoc.version > since)
        rows = await session.execute(stmt.order_by(SearchDoc.id))
        index.extend((ref_id, q or "", a or "", s or "") for ref_id, q, a, s in rows)
        if len(index.refs) > 2 * index.n + COMPACT_SLACK:
            index = index.compacted()
        index.generation, index.resets = gen, resets
        return index
