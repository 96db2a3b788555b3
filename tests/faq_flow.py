"""Shared by the FAQ and archive tests: the example data imported, and Slack-shaped asks and clicks."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from bot.local import requests as req
from storage import faq_io, faqs
from tests.conftest import SignedSlack

DATA = Path(__file__).resolve().parent.parent / "storage" / "data"
FAQS = DATA / "faqs.example.yaml"
ARCHIVES = DATA / "archives.example.yaml"
HOSTILE = [
    '"',
    "*",
    "NEAR(",
    "OR",
    "ワクチン OR 予約",
    'NEAR("a" "b")',
    "x" * 5000,
    "😀🙏",
    "   ",
    "<!channel>",
    "<@U00000001> 保管",
    "予約 AND NOT",
    "(",
    "^",
    "'; DROP TABLE faqs; --",
    "\\",
]


_TS = itertools.count(1)


def new_ts() -> str:
    """A message timestamp unique within the test run."""
    return f"1700000000.{next(_TS):06d}"


async def load_faqs(signed: SignedSlack) -> None:
    deps = signed.yakuba.deps
    report = await faq_io.import_faqs(db=deps.db, team_id=deps.team_id, path=FAQS)
    assert not report.errors and report.created == report.total


async def load_archives(signed: SignedSlack) -> None:
    deps = signed.yakuba.deps
    report = await faq_io.import_archives(db=deps.db, team_id=deps.team_id, path=ARCHIVES)
    assert not report.errors and report.created == report.total


async def by_question(signed: SignedSlack, question: str):
    deps = signed.yakuba.deps
    return await faqs.find(db=deps.db, team_id=deps.team_id, question=question)


async def ask(signed: SignedSlack, user: str, command: str, text: str = "", *, channel: str = "C0GENERAL") -> dict:
    response = await signed.command(user, command, text, channel_id=channel)
    assert response.status == 200
    await signed.settle()
    return await response.json() if response.content_length else {}


def body(answer: dict) -> str:
    return str(answer.get("blocks")) + str(answer.get("text", ""))


def buttons(message: dict, action_id: str | None = None) -> list[dict]:
    found = [e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]]
    return [e for e in found if action_id in (None, e.get("action_id"))]


async def click(
    signed: SignedSlack, user: str, element: dict, *, channel: str = "C0GENERAL", message: dict | None = None
) -> None:
    response = await signed.action(
        user, element["action_id"], element.get("value", ""), channel_id=channel, message=message
    )
    assert response.status == 200
    await signed.settle()


async def mention(
    signed: SignedSlack, user: str, channel: str, text: str, *, event_id: str | None = None, ts: str | None = None
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{req.BOT_USER_ID}> {text}",
        "channel": channel,
        "ts": ts or new_ts(),
        "team": req.TEAM_ID,
    }
    response = await signed.event(event, event_id=event_id)
    assert response.status == 200
    await signed.settle()
    return event


def replies(signed: SignedSlack, channel: str, ts: str) -> list[dict]:
    return [m for m in signed.slack.messages(channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def form(**fields: Any) -> dict:
    """Modal state as Slack sends it (text inputs, datepicker, selects, checkboxes, numbers)."""
    kinds = {
        "updated_on": lambda v: {"type": "datepicker", "selected_date": v},
        "held_on": lambda v: {"type": "datepicker", "selected_date": v},
        "visibility": lambda v: {"type": "static_select", "selected_option": {"value": v}},
        "announce": lambda v: {"type": "checkboxes", "selected_options": [{"value": x} for x in v]},
        "number": lambda v: {"type": "number_input", "value": v},
        "attendance": lambda v: {"type": "number_input", "value": v},
        "governments": lambda v: {"type": "number_input", "value": v},
    }
    return req.state_values({k: {"value": kinds.get(k, lambda v: v)(v)} for k, v in fields.items()})
