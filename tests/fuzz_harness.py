"""Fuzzing over signed HTTP into the real app: one long-lived app per run, driven from hypothesis examples.

Shared by tests/test_fuzz.py (a few hundred examples in CI) and bench/fuzz.py (10,000). Hypothesis runs
synchronous examples, so the harness owns an event loop (asyncio.Runner) with the FakeSlack and the app on it.

Invariants checked after every example:
* the HTTP answer is never a 5xx, and no reply (ack body, response_url, chat.*, views.*) shows a traceback;
* nothing is logged at ERROR (a listener that raised, a background task that failed);
* no partial write: every announcement past its draft has exactly `total` delivery rows, every pending
  approval request belongs to a member, and one submission adds at most one programme/announcement/request.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import create_app
from bot.config import Settings
from bot.local import requests as req
from bot.server import init_web
from storage.models import Announcement, AnnouncementDelivery, ApprovalRequest, Member, Program
from tests.clock import TestClock
from tests.conftest import SECRET, TOKEN, SignedSlack
from tests.fake_slack import started_fake_slack

COMMANDS = {
    "/register": [""],
    "/faq": ["", "ワクチン 保管"],
    "/archive": [""],
    "/programs": ["today", "week", "subscribe", "unsubscribe", "add", "edit", "pause", "resume"],
    "/kenjinkai": [""],
    "/ka": ["list", "join", "leave"],
    "/members": ["stats", "map", "export"],
    "/announce": ["all", "pref:13", "pref:13,27", "members", "broadcast", "status"],
    "/approvals": [""],
    "/mydata": ["export", "forget"],
    "/yakuba": ["help", "setup prefectures", "lead"],
}
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "Error:", "Exception:")
COUNTED = (Announcement, ApprovalRequest, Program)


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


class Harness:
    def __init__(self, database_url: str) -> None:
        self.runner = asyncio.Runner()
        self.errors = Errors()
        logging.getLogger().addHandler(self.errors)
        self.runner.run(self._start(database_url))

    async def _start(self, database_url: str) -> None:
        self.slack = await started_fake_slack(tokens=[TOKEN])
        self.organizer = self.slack.add_user("unei", "運営 花子")["id"]
        self.member = self.slack.add_user("tanaka", "田中 一郎")["id"]
        admin = self.slack.add_channel("yakuba-admin", members=[req.BOT_USER_ID, self.organizer])["id"]
        broadcast = self.slack.add_channel("chonai-hoso", members=[req.BOT_USER_ID])["id"]
        settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=self.slack.base_url,
            database_url=database_url,
            yakuba_organizers=self.organizer,
            yakuba_admin_channel=admin,
            yakuba_broadcast_channel=broadcast,
        )
        self.yakuba = create_app(settings, clock=TestClock())
        self.http = TestClient(TestServer(init_web(self.yakuba)))
        await self.http.start_server()
        self.signed = SignedSlack(http=self.http, yakuba=self.yakuba, slack=self.slack, clock=self.yakuba.deps.clock)
        await self.signed.command(self.organizer, "/yakuba", "setup prefectures")
        await self.signed.settle()
        # The real forms, as the app opens them: their block and action ids are what the fuzzer fills.
        for user, command, text in (
            (self.member, "/register", ""),
            (self.organizer, "/announce", ""),
            (self.organizer, "/programs", "add"),
            (self.organizer, "/yakuba", "lead"),
        ):
            await self.signed.command(user, command, text)
            await self.signed.settle()
        self.views = [c.response["view"] for c in self.slack.calls_to("views.open") if c.response.get("ok")]
        self.check_clean()

    def close(self) -> None:
        async def stop() -> None:
            await self.http.close()
            await self.slack.stop()

        self.runner.run(stop())
        self.runner.close()
        logging.getLogger().removeHandler(self.errors)

    # ------------------------------------------------------------------ one example
    def run(self, post) -> None:
        self.runner.run(self._one(post))

    async def _one(self, post) -> None:
        before_calls = len(self.slack.calls)
        counts = await self._counts()
        response = await post()
        body = await response.text()
        assert response.status < 500, (response.status, body)
        await self.signed.settle()
        replies = [json.dumps(c.args, ensure_ascii=False) for c in self.slack.calls[before_calls:]]
        for text in [body, *replies]:
            assert not any(marker in text for marker in TRACEBACK_MARKERS[:2]), text[:500]
        self.check_clean()
        after = await self._counts()
        assert all(0 <= after[k] - counts[k] <= 1 for k in counts), (counts, after)
        await self._consistent()

    def check_clean(self) -> None:
        records, self.errors.records = self.errors.records, []
        assert not records, records[0][:2000]

    async def _counts(self) -> dict[str, int]:
        async with self.yakuba.deps.db.read() as session:
            return {m.__tablename__: await session.scalar(select(func.count()).select_from(m)) for m in COUNTED}

    async def _consistent(self) -> None:
        async with self.yakuba.deps.db.read() as session:
            decided = (
                await session.execute(
                    select(Announcement.id, Announcement.total, func.count(AnnouncementDelivery.id))
                    .outerjoin(AnnouncementDelivery, AnnouncementDelivery.announcement_id == Announcement.id)
                    .where(Announcement.status != "draft")
                    .group_by(Announcement.id, Announcement.total)
                )
            ).all()
            assert all(total == rows for _, total, rows in decided), decided
            orphans = await session.scalar(
                select(func.count())
                .select_from(ApprovalRequest)
                .outerjoin(
                    Member, (Member.team_id == ApprovalRequest.team_id) & (Member.user_id == ApprovalRequest.user_id)
                )
                .where(Member.id.is_(None))
            )
            assert not orphans

    # ------------------------------------------------------------------ surfaces
    def command(self, user: str, command: str, text: str):
        return lambda: self.signed.command(user, command, text)

    def submit(self, user: str, view: dict, values: dict, metadata: str | None):
        return lambda: self.signed.submit(user, view, values, private_metadata=metadata)

    def action(self, user: str, action_id: str, value: str, block_id: str, in_view: bool):
        view = self.views[0] if in_view and self.views else None
        return lambda: self.signed.action(
            user, action_id, value, block_id=block_id, view=view, channel_id=None if view else "C0GENERAL"
        )


# ---------------------------------------------------------------------- strategies
texts = st.text(max_size=120) | st.sampled_from(
    ["", " ", "<!channel>", "&amp;", "13", "東京都", "2099-04-01", "x" * 4000]
)


def command_text(command: str):
    return texts | st.builds(lambda sub, rest: f"{sub} {rest}".strip(), st.sampled_from(COMMANDS[command]), texts)


def option(value: str) -> dict:
    return {"value": value, "text": {"type": "plain_text", "text": value[:75] or "-"}}


# Any element shape for any element: type confusion is part of the input space.
element_value = st.one_of(
    st.builds(lambda v: {"type": "plain_text_input", "value": v}, st.none() | texts),
    st.builds(lambda v: {"type": "static_select", "selected_option": option(v)}, texts),
    st.builds(lambda v: {"type": "external_select", "selected_option": option(v)}, texts),
    st.builds(
        lambda vs: {"type": "multi_static_select", "selected_options": [option(v) for v in vs]},
        st.lists(texts, max_size=5),
    ),
    st.builds(
        lambda vs: {"type": "checkboxes", "selected_options": [option(v) for v in vs]}, st.lists(texts, max_size=3)
    ),
    st.builds(lambda v: {"type": "datepicker", "selected_date": v}, st.none() | texts),
    st.builds(lambda v: {"type": "timepicker", "selected_time": v}, st.none() | texts),
    st.builds(lambda v: {"type": "users_select", "selected_user": v}, st.none() | texts),
    st.builds(lambda v: {"type": "radio_buttons", "selected_option": option(v) if v else None}, texts),
)


@st.composite
def view_values(draw, view: dict) -> dict:
    """Values for the view's own inputs (some left out), plus now and then a stray block."""
    out: dict[str, dict] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or block.get("accessory")
        if not isinstance(element, dict) or "action_id" not in element or draw(st.integers(0, 9)) == 0:
            continue
        out[block.get("block_id", "b")] = {element["action_id"]: draw(element_value)}
    if draw(st.integers(0, 9)) == 0:
        out[draw(texts)] = {draw(texts): draw(element_value)}
    return out
