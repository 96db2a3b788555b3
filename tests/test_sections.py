"""課: /ka list (by kind, with counts), /ka join (fuzzy, invite, suggestions), /ka leave (kick), on approval."""

from __future__ import annotations

import json

from bot.texts.markup import safe
from storage import sections
from tests.community_flow import add_member, seed_sections, texts
from tests.membership_flow import TEAM, approved, channels


async def reply(response) -> dict:
    assert response.status == 200
    return json.loads(await response.text())


async def test_list_groups_by_kind_with_member_counts(signed, people):
    found = await seed_sections(signed)
    await add_member(signed, people.member)
    await sections.join(signed.yakuba.deps.db, team_id=TEAM, section_id=found["写真部"].id, user_id=people.member)
    body = await reply(await signed.command(people.member, "/ka", "list"))
    text = json.dumps(body["blocks"], ensure_ascii=False)
    for kind in ("work", "skill", "hobby"):
        assert texts(signed)(f"sections.kinds.{kind}") in text
    assert text.index(texts(signed)("sections.kinds.work")) < text.index("DX推進課")
    assert text.index(texts(signed)("sections.kinds.hobby")) < text.index("写真部")
    photo = next(b["text"]["text"] for b in body["blocks"] if b["type"] == "section" and "写真部" in b["text"]["text"])
    line = next(x for x in photo.split("\n") if "写真部" in x)
    assert line.startswith(
        texts(signed)(
            "sections.list.line",
            name="写真部",
            count=1,
            channel=safe(f" <#{found['写真部'].channel_id}>"),
            description="",
        )[:20]
    )
    assert "（1人）" in line or "(1 members)" in line


async def test_join_by_kana_romaji_and_kanji_invites_to_the_channel(signed, people):
    found = await seed_sections(signed)
    await add_member(signed, people.member)
    for query, name in (("らいてぃんぐ", "ライティング課"), ("bosai", "防災課"), ("写真", "写真部")):
        response = await signed.command(people.member, "/ka", f"join {query}")
        assert response.status == 200
        await signed.settle()
        channel = found[name].channel_id
        assert people.member in signed.slack.channel(channel)["members"]
        assert signed.slack.ephemerals(people.member)[-1]["text"] == texts(signed)(
            "sections.join.done", name=name, channel=safe(f"<#{channel}>")
        )
    mine = await sections.of_member(signed.yakuba.deps.db, team_id=TEAM, user_id=people.member)
    assert sorted(s.name for s in mine) == sorted(["ライティング課", "防災課", "写真部"])


async def test_joining_twice_says_already(signed, people):
    found = await seed_sections(signed)
    await add_member(signed, people.member)
    for _ in range(2):
        await signed.command(people.member, "/ka", "join writing")
        await signed.settle()
    channel = safe(f"<#{found['ライティング課'].channel_id}>")
    assert signed.slack.ephemerals(people.member)[-1]["text"] == texts(signed)(
        "sections.join.already", name="ライティング課", channel=channel
    )
    assert len(await sections.of_member(signed.yakuba.deps.db, team_id=TEAM, user_id=people.member)) == 1


async def test_unknown_section_suggests_the_closest(signed, people):
    await seed_sections(signed)
    await add_member(signed, people.member)
    body = await reply(await signed.command(people.member, "/ka", "join 防犯課"))
    text = body["blocks"][0]["text"]["text"]
    assert texts(signed)("sections.join.not_found", query="防犯課") in text
    assert texts(signed)("sections.join.suggestions", names="*防災課*") in text
    body = await reply(await signed.command(people.member, "/ka", "join ライテング"))
    assert "*ライティング課*" in body["blocks"][0]["text"]["text"]
    await signed.settle()
    assert signed.slack.calls_to("conversations.invite") == []


async def test_leave_removes_record_and_kicks_from_channel(signed, people):
    found = await seed_sections(signed)
    await add_member(signed, people.member)
    await signed.command(people.member, "/ka", "join photo")
    await signed.settle()
    channel = found["写真部"].channel_id
    assert people.member in signed.slack.channel(channel)["members"]
    body = await reply(await signed.command(people.member, "/ka", "leave 写真部"))
    await signed.settle()
    assert body["text"] == texts(signed)("sections.leave.done", name="写真部")
    assert people.member not in signed.slack.channel(channel)["members"]
    assert await sections.of_member(signed.yakuba.deps.db, team_id=TEAM, user_id=people.member) == []
    body = await reply(await signed.command(people.member, "/ka", "leave 写真部"))
    assert body["text"] == texts(signed)("sections.leave.not_in", name="写真部")


async def test_unregistered_cannot_join_and_bad_input_gets_usage(signed, people):
    await seed_sections(signed)
    body = await reply(await signed.command(people.member, "/ka", "join 写真部"))
    assert body["text"] == texts(signed)("sections.join.not_member")
    body = await reply(await signed.command(people.member, "/ka", "dance <!channel>"))
    assert body["text"] == texts(signed)("help.usage_title", command="ka")
    await signed.settle()
    assert signed.slack.calls_to("conversations.invite") == []


async def test_bot_outside_the_channel_joins_it_then_invites(signed, people):
    found = await seed_sections(signed)
    await add_member(signed, people.member)
    channel = found["英語課"].channel_id
    signed.slack.remove_members(channel, "U0BOT")
    await signed.command(people.member, "/ka", "join eigo")
    await signed.settle()
    assert people.member in signed.slack.channel(channel)["members"]
    assert [c.args["channel"] for c in signed.slack.calls_to("conversations.join")] == [channel]


async def test_interests_from_registration_join_sections_on_approval(signed, people):
    await channels(signed)
    found = await seed_sections(signed)
    await approved(signed, people, people.member, interests="ライティング, 写真, 料理")
    mine = await sections.of_member(signed.yakuba.deps.db, team_id=TEAM, user_id=people.member)
    assert sorted(s.name for s in mine) == ["ライティング課", "写真部"]
    for name in ("ライティング課", "写真部"):
        assert people.member in signed.slack.channel(found[name].channel_id)["members"]
