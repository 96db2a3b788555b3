"""Demo scene (安否確認): a saved JMA telegram replayed as a drill opens a check-in in the 県人会 channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources

from bot.blocks.disaster import ANSWER_ACTION, VIEW_ACTION
from bot.local.demo.story import JST, StoryClock
from bot.local.workspace import LocalWorkspace
from bot.services.disaster import replay
from storage import members, prefectures
from storage.jma import parse_telegram
from storage.models import Member

DRILL = resources.files("storage.data").joinpath(
    "jma_drill.example.xml"
)  # 5強 in 埼玉県, Status 訓練: the file `yakuba disaster replay` takes
SAITAMA = "11"
# (login, name, lead?): two members of 埼玉県人会.
PEOPLE = (("saito", "斉藤 みのり", True), ("okada", "岡田 翔", False))
WHEN = datetime(2027, 5, 10, 10, 0, tzinfo=JST)  # a weekday morning's disaster drill


async def journey_disaster(ws: LocalWorkspace, story: StoryClock) -> None:
    deps = ws.yakuba.deps
    story.at(WHEN - timedelta(minutes=5))
    channel = await prefectures.channel_for(deps.db, team_id=deps.team_id, pref_code=SAITAMA)
    if channel is None:  # the membership journey records all 47; on its own this scene makes the one it needs
        made = ws.slack.add_channel("kenjinkai-11-saitama")["id"]
        await prefectures.record(deps.db, team_id=deps.team_id, pref_code=SAITAMA, channel_id=made, name="saitama")
        channel = await prefectures.channel_for(deps.db, team_id=deps.team_id, pref_code=SAITAMA)
    users = []
    async with deps.db.write() as session:
        for login, name, _ in PEOPLE:
            user = ws.slack.add_user(login, name)["id"]
            users.append(user)
            ws.slack.add_members(channel.channel_id, user)
            now = deps.clock()
            session.add(
                Member(
                    team_id=deps.team_id, user_id=user, status="approved", name=name, org_type="prefecture",
                    pref_code=SAITAMA, muni_code=None, department="危機管理課", interests=[], joined_at=now,
                    created_at=now, updated_at=now, approved_at=now,
                )
            )  # fmt: skip
    for user, (_, _, lead) in zip(users, PEOPLE, strict=True):
        if lead:
            await members.set_lead(deps.db, team_id=deps.team_id, user_id=user, lead=True)
    ws.discard()

    story.at(WHEN)
    ws.narrate("disaster.demo.drill")
    await replay(deps, parse_telegram(DRILL.read_bytes()), now=deps.clock())
    await deps.drain()
    ws.show()
    ws.me = users[1]
    ws.narrate("disaster.demo.press", name=PEOPLE[1][1], status=ws.texts("disaster.status.safe"))
    await ws.click_action(f"{ANSWER_ACTION}.safe")
    ws.me = users[0]
    ws.narrate("disaster.demo.press", name=PEOPLE[0][1], status=ws.texts("disaster.status.need_help"))
    await ws.click_action(f"{ANSWER_ACTION}.need_help")
    await deps.drain()
    ws.show()
    ws.narrate("disaster.demo.view")
    ws.me = ws.organizer
    await ws.click_action(VIEW_ACTION)
