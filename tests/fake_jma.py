"""FakeJma: JMA's Atom feed and telegram files on loopback, with conditional GETs and fault injection, for tests.

    jma = await started_fake_jma()
    jma.publish("vxse53_saitama_5plus.xml")   # an entry in the feed, the telegram served under data/
    jma.fail("feed", status=500)               # the next feed request answers 500
    jma.hang("feed", bound=5)                  # the next feed request answers only after release() or 5 s
    jma.malformed("telegram")                  # the next telegram is cut in the middle of an element
    jma.count("feed"), jma.requests            # what was asked, with which validators, and what it got
    await jma.holding.wait()                   # a request is being held by a hang (jma.held: how many now)
    await jma.stop()

Faults are matched by target — "feed" (eqvol.xml and eqvol_l.xml), "telegram" (any data file) or one file
name — and consumed in the order they were added; `times=None` never runs out. The feed answers 304 when
If-None-Match names its ETag, or (without If-None-Match, as RFC 9110 says) when If-Modified-Since is not
older than its newest entry. No clock is read: an entry's time is its telegram's Control/DateTime unless
`at` says otherwise.

The telegrams in tests/data/jma/ were written for these tests in JMA's published format:
  vxse51_saitama_5plus.xml            震度速報: 5強 in 埼玉県 (4 in 東京都); prefectures and areas, no cities
  vxse53_saitama_5plus.xml            the same EventID's 震源・震度に関する情報, Serial 1: cities, one of them
                                      震度５弱以上未入電 (no MaxInt), 5強 in 埼玉県, 4 in 東京都, 3 in 千葉県
  vxse53_saitama_5plus_corrected.xml  訂正, Serial 2 of the same EventID: 川口市 5弱→5強, 戸田市 reported 5弱, M5.5
  vxse53_saitama_cancel.xml           取消 of that EventID: Body has only a Text, no intensity
  vxse53_drill.xml                    Status 訓練: 6弱 in 静岡県 (must never reach members)
  vxse51_test.xml                     Status 試験: 5弱 in 北海道 (must never reach members)
  vxse51_three_prefectures.xml        震度速報 of one quake felt at 6弱/5強/5弱 in 茨城県, 栃木県, 群馬県 (4 in 埼玉県)
  vxse53_three_prefectures.xml        the same EventID with hypocentre, magnitude and cities
  vxse53_below_threshold.xml          a quake whose strongest shaking is 4 (千葉県): nothing to open
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from storage.jma import parse_telegram

FIXTURES = Path(__file__).parent / "data" / "jma"
FEED_PATH = "/developer/xml/feed/eqvol.xml"
LONG_FEED_PATH = "/developer/xml/feed/eqvol_l.xml"
DATA_PATH = "/developer/xml/data/"
# The feed's time before anything is published: fixed, so no test depends on the machine's clock.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Fault:
    target: str
    kind: str  # "fail" | "hang" | "malformed"
    times: int | None
    status: int = 500
    bound: float = 0.0
    retry_after: int | None = None


@dataclass(frozen=True)
class Published:
    name: str
    data: bytes
    title: str
    at: datetime
    author: str
    summary: str

    @property
    def entry_id(self) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.name}@{self.at.isoformat()}')}"


@dataclass(frozen=True)
class Seen:
    path: str
    target: str
    status: int
    if_none_match: str | None
    if_modified_since: str | None


class FakeJma:
    def __init__(self) -> None:
        self.published: list[Published] = []
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self.held = 0  # requests being held by a hang right now (a test waits on this, never on time)
        self.holding = asyncio.Event()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(FEED_PATH, self._feed)
        app.router.add_get(LONG_FEED_PATH, self._feed)
        app.router.add_get(DATA_PATH + "{name}", self._telegram)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def feed_url(self) -> str:
        return self.base_url + FEED_PATH

    def url_for(self, name: str) -> str:
        return self.base_url + DATA_PATH + name

    # ------------------------------------------------------------- content
    def publish(
        self, name: str, *, data: bytes | None = None, at: datetime | None = None, title: str | None = None
    ) -> Published:
        """Add a feed entry for a telegram (a file of tests/data/jma/, or `data` served under `name`)."""
        body = fixture(name) if data is None else data
        if at is None or title is None:
            quake = parse_telegram(body)
            at = at or quake.sent_at
            title = title or quake.title
            author, summary = quake.publishing_office, quake.headline
        else:
            author, summary = "", ""
        entry = Published(name, body, title, at, author, summary)
        self.published.append(entry)
        return entry

    def feed_body(self) -> bytes:
        entries = sorted(self.published, key=lambda entry: entry.at, reverse=True)
        items = "".join(
            "  <entry>\n"
            f"    <title>{escape(entry.title)}</title>\n"
            f"    <id>{escape(entry.entry_id)}</id>\n"
            f"    <updated>{_iso(entry.at)}</updated>\n"
            f"    <author><name>{escape(entry.author)}</name></author>\n"
            f'    <link type="application/xml" href={quoteattr(self.url_for(entry.name))}/>\n'
            f'    <content type="text">{escape(entry.summary)}</content>\n'
            "  </entry>\n"
            for entry in entries
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" lang="ja">\n'
            "  <title>eqvol (fake)</title>\n"
            f"  <id>urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'fake-jma-eqvol')}</id>\n"
            f"  <updated>{_iso(self.last_modified)}</updated>\n"
            f'  <link rel="self" href={quoteattr(self.feed_url)}/>\n'
            f"{items}"
            "</feed>\n"
        ).encode()

    @property
    def last_modified(self) -> datetime:
        return max((entry.at for entry in self.published), default=EPOCH)

    # ------------------------------------------------------------ scripting
    def _add(self, fault: Fault) -> Fault:
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be >= 1 or None (forever)")
        self.faults.append(fault)
        return fault

    def fail(
        self, target: str = "feed", *, status: int = 500, times: int | None = 1, retry_after: int | None = None
    ) -> Fault:
        """Answer with an HTTP error status (and a Retry-After header when `retry_after` is given)."""
        return self._add(Fault(target, "fail", times, status=status, retry_after=retry_after))

    def hang(self, target: str = "feed", *, bound: float = 5.0, times: int | None = 1) -> Fault:
        """Hold the answer until `release()` or `bound` seconds, then answer normally (a slow JMA, never forever)."""
        self._release.clear()
        return self._add(Fault(target, "hang", times, bound=bound))

    def malformed(self, target: str = "feed", *, times: int | None = 1) -> Fault:
        """Answer 200 with the body cut in half: what a proxy that gave up mid-transfer returns."""
        return self._add(Fault(target, "malformed", times))

    def release(self) -> None:
        self._release.set()

    def lift(self, fault: Fault) -> None:
        if fault in self.faults:
            self.faults.remove(fault)

    def count(self, target: str = "feed", *, status: int | None = None) -> int:
        return sum(
            1
            for seen in self.requests
            if target in (seen.target, seen.path.rsplit("/", 1)[-1]) and (status is None or seen.status == status)
        )

    # --------------------------------------------------------------- serving
    def _take(self, target: str, name: str) -> Fault | None:
        for fault in self.faults:
            if fault.target in (target, name):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "feed", self.feed_body(), self.last_modified)

    async def _telegram(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        entry = next((entry for entry in reversed(self.published) if entry.name == name), None)
        if entry is None:
            return self._answer(request, "telegram", web.Response(status=404))
        return await self._serve(request, "telegram", entry.data, entry.at)

    async def _serve(self, request: web.Request, target: str, body: bytes, modified: datetime) -> web.StreamResponse:
        fault = self._take(target, request.path.rsplit("/", 1)[-1])
        if fault is not None and fault.kind == "hang":
            self.held += 1
            self.holding.set()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._release.wait(), fault.bound)
            finally:
                self.held -= 1
        if fault is not None and fault.kind == "fail":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            failed = web.Response(status=fault.status, text="fault injected", headers=headers)
            return self._answer(request, target, failed)
        etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True)}
        if _not_modified(request, etag, modified):
            return self._answer(request, target, web.Response(status=304, headers=headers))
        if fault is not None and fault.kind == "malformed":
            body = body[: len(body) // 2]
        return self._answer(
            request, target, web.Response(body=body, headers=headers, content_type="application/xml", charset="utf-8")
        )

    def _answer(self, request: web.Request, target: str, response: web.Response) -> web.Response:
        self.requests.append(
            Seen(
                request.path,
                target,
                response.status,
                request.headers.get("If-None-Match"),
                request.headers.get("If-Modified-Since"),
            )
        )
        return response


def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if moment.tzinfo is None:
        return False
    # HTTP dates have whole seconds: compare at that precision, or a sub-second entry would never be "unchanged".
    return modified.replace(microsecond=0) <= moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def started_fake_jma() -> FakeJma:
    """A started FakeJma (remember `await jma.stop()`)."""
    jma = FakeJma()
    await jma.start()
    return jma
