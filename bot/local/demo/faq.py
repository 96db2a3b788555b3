"""Demo journey 2 (よくある質問): /faq with readings, a mention and a DM answered in threads, 👍, a question
forwarded to the organisers and answered from Slack, and /archive."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.blocks.faq import ANSWER, FORWARD, HELPFUL
from bot.local import requests as req
from bot.local.demo.story import JST, StoryClock
from bot.local.workspace import LocalWorkspace
from storage import faq_io

DATA = Path(__file__).resolve().parents[3] / "storage" / "data"


async def journey_faq(ws: LocalWorkspace, story: StoryClock) -> None:
    deps = ws.yakuba.deps
    story.at(datetime(2027, 3, 24, 12, 15, tzinfo=JST))
    ws.me = ws.organizer
    ws.narrate("demo.faq.import")
    for run, name in ((faq_io.import_faqs, "faqs"), (faq_io.import_archives, "archives")):
        report = await run(db=deps.db, team_id=deps.team_id, path=DATA / f"{name}.example.yaml")
        ws.printer(f"  · {name}.example.yaml: {report.created + report.updated + report.unchanged} / {report.total}")

    ws.me = ws.slack.add_user("suzuki", "鈴木 花子")["id"]
    ws.slack.add_members(ws.general, ws.me)
    ws.narrate("demo.faq.search", name="鈴木 花子")
    await ws.command("/faq", ws.texts("demo.faq.query_search"))
    ws.narrate("demo.faq.reading")
    await ws.command("/faq", ws.texts("demo.faq.query_reading"))

    ws.narrate("demo.faq.mention")
    text = f"<@{deps.bot_user_id or req.BOT_USER_ID}> {ws.texts('demo.faq.query_mention')}"
    await ws.event(
        {
            "type": "app_mention",
            "user": ws.me,
            "text": text,
            "channel": ws.general,
            "ts": ws.slack.ws.new_ts(),
            "team": deps.team_id,
        }
    )
    ws.narrate("demo.faq.feedback")
    await ws.click_action(HELPFUL)

    ws.narrate("demo.faq.dm")
    dm = ws.slack.dm_channel(ws.me)
    await ws.event(req.message_event(ws.me, dm, ws.texts("demo.faq.query_dm"), channel_type="im"))

    ws.narrate("demo.faq.unknown")
    await ws.command("/faq", ws.texts("demo.faq.query_unknown"))
    await ws.click_action(FORWARD)
    ws.narrate("demo.faq.answer")
    ws.me = ws.organizer
    await ws.click_action(ANSWER)
    await ws.submit(
        {
            "question": {"value": ws.texts("demo.faq.new_question")},
            "answer": {"value": ws.texts("demo.faq.new_answer")},
            "category": {"value": ws.texts("demo.faq.new_category")},
            "visibility": {"value": {"type": "static_select", "selected_option": {"value": "public"}}},
        }
    )

    ws.narrate("demo.faq.archive")
    await ws.command("/archive", ws.texts("demo.faq.query_archive"))
