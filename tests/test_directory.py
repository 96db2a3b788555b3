"""Directory: /members stats, /members map (a PNG through files upload v2), /members export (organisers)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from PIL import Image
from sqlalchemy import select

from bot.services.directory import NONE, render_map, shade, ticks
from storage import directory
from storage.db import Database
from storage.models import AuditEntry, Member
from tests.community_flow import add_member, all_text, is_png, texts
from tests.membership_flow import TEAM


async def seed(signed, people) -> None:
    await add_member(signed, people.member, name="田中 一郎", department="総務部 広報課")
    await add_member(signed, "U0SAPPORO", pref="01", muni="011011")  # 札幌市中央区: a ward of a designated city
    await add_member(signed, "U0OSAKA", pref="27", muni=None, org_type="prefecture")
    await add_member(signed, "U0CHIYODA", pref="13", muni="131016")  # same government as the member
    await add_member(signed, "U0PENDING", pref="13", status="pending")
    await add_member(signed, "U0LEFT", pref="13", left_at=datetime(2026, 1, 1, tzinfo=UTC))


async def test_stats_in_sql(signed, people):
    await seed(signed, people)
    stats = await directory.stats(signed.yakuba.deps.db, team_id=TEAM, now=signed.clock(), tz=signed.yakuba.settings.tz)
    assert stats.members == 4 and stats.governments == 3
    assert stats.by_prefecture == {"01": 1, "13": 2, "27": 1}
    assert stats.by_kind == {"prefecture": 1, "city": 1, "ward": 2, "town": 0, "village": 0, "national": 0, "other": 0}
    assert stats.by_month[-1][1] == 5  # approvals this month, the member who left since included
    assert len(stats.by_month) == 12


async def test_members_stats_command(signed, people):
    await seed(signed, people)
    response = await signed.command(people.member, "/members", "stats")
    body = json.loads(await response.text())
    text = all_text(body["blocks"])
    t = texts(signed)
    assert t("directory.stats.members", count="4") in text
    assert t("directory.stats.governments", count="3") in text
    assert t("directory.stats.kind_line", label=t("directory.kinds.ward"), count="2") in text
    assert t("directory.stats.prefecture_line", prefecture="東京都", count="2") in text


async def test_members_map_uploads_a_png(signed, people):
    await seed(signed, people)
    channel = signed.slack.add_channel("general-talk")["id"]
    response = await signed.command(people.member, "/members", "map", channel_id=channel)
    assert json.loads(await response.text())["text"] == texts(signed)("directory.map.started")
    await signed.settle()
    assert len(signed.slack.calls_to("files.getUploadURLExternal")) == 1
    assert len(signed.slack.calls_to("upload")) == 1
    [done] = signed.slack.calls_to("files.completeUploadExternal")
    [stored] = signed.slack.files()
    content = signed.slack.file(stored["id"])["content"]
    assert stored["name"] == "members-map.png" and is_png(content)
    # What the member sees: Tokyo (2 members) in the darkest shade, Hokkaido and Osaka (1 each) half-way.
    image = Image.open(io.BytesIO(content))
    assert image.size == (700, 700) and 10_000 < len(content) < 1_000_000
    colours = dict((c, n) for n, c in image.convert("RGB").getcolors(1 << 20))
    assert colours[shade(1.0)] > 50 and colours[shade(0.5)] > colours[shade(1.0)] and colours[NONE] > 10_000
    assert channel in json.dumps(done.args)
    shared = signed.slack.messages(channel)[-1]
    assert shared["text"] == texts(signed)("directory.map.comment", members="4", prefectures=3)


def luminance(colour: tuple[int, int, int]) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def test_the_map_shades_more_members_darker_and_labels_round_numbers():
    image = Image.open(io.BytesIO(render_map({"13": 10, "27": 5, "01": 1})))
    colours = dict((c, n) for n, c in image.convert("RGB").getcolors(1 << 20))
    tokyo, osaka, hokkaido = shade(1.0), shade(0.5), shade(0.1)
    assert luminance(tokyo) < luminance(osaka) < luminance(hokkaido)
    # Each is a filled area (the colour bar alone has a few pixels of each): Hokkaido the largest, 44 grey.
    assert colours[hokkaido] > 10 * colours[osaka] and colours[osaka] > 50 and colours[tokyo] > 50
    assert colours[NONE] > colours[hokkaido]
    assert ticks(431) == [0, 50, 100, 150, 200, 250, 300, 350, 400] and ticks(1) == [0, 1]
    assert ticks(3_380_000)[-1] == 3_000_000


async def test_map_goes_to_a_dm_when_the_bot_is_not_in_the_channel(signed, people):
    await seed(signed, people)
    channel = signed.slack.add_channel("elsewhere", bot_member=False)["id"]
    await signed.command(people.member, "/members", "map", channel_id=channel)
    await signed.settle()
    stored = signed.slack.files()[-1]  # the first try, refused by the channel, left an unshared upload
    assert is_png(signed.slack.file(stored["id"])["content"])
    assert signed.slack.dm_messages(people.member)[-1]["files"][0]["id"] == stored["id"]


async def test_export_csv_is_dmed_to_organisers(signed, people):
    await seed(signed, people)
    response = await signed.command(people.organizer, "/members", "export")
    assert json.loads(await response.text())["text"] == texts(signed)("directory.export.started")
    await signed.settle()
    [stored] = signed.slack.files()
    assert stored["name"].endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(signed.slack.file(stored["id"])["content"].decode("utf-8-sig"))))
    assert {r["user_id"] for r in rows} == {people.member, "U0SAPPORO", "U0OSAKA", "U0CHIYODA", "U0PENDING", "U0LEFT"}
    tanaka = next(r for r in rows if r["user_id"] == people.member)
    assert (tanaka["name"], tanaka["prefecture"], tanaka["municipality"]) == ("田中 一郎", "東京都", "千代田区")
    dm = signed.slack.dm_messages(people.organizer)[-1]
    assert dm["files"][0]["id"] == stored["id"]
    assert dm["text"] == texts(signed)("directory.export.comment", count="6")
    async with signed.yakuba.deps.db.read() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "members.exported"))
    assert entry.actor == people.organizer and entry.detail == {"rows": 6}


async def test_export_refused_politely_for_non_organisers(signed, people):
    await seed(signed, people)
    response = await signed.command(people.member, "/members", "export")
    assert json.loads(await response.text())["text"] == texts(signed)("directory.export.refused")
    await signed.settle()
    assert signed.slack.files() == [] and signed.slack.calls_to("files.getUploadURLExternal") == []


async def test_kenjinkai_members_lists_ones_prefecture(signed, people):
    await seed(signed, people)
    response = await signed.command(people.member, "/kenjinkai", "members")
    body = json.loads(await response.text())
    text = all_text(body["blocks"])
    assert body["text"] == texts(signed)("directory.kenjinkai.title", prefecture="東京都", count="2")
    assert "田中 一郎" in text and "総務部 広報課" in text and "千代田区" in text and "U0CHIYODA" in text
    assert "U0SAPPORO" not in text and "U0PENDING" not in text and "U0LEFT" not in text
    response = await signed.command("U0PENDING", "/kenjinkai", "members")
    assert json.loads(await response.text())["text"] == texts(signed)("prefectures.kenjinkai.not_registered")


async def test_unknown_members_subcommand_gets_usage(signed, people):
    response = await signed.command(people.member, "/members", "delete everyone")
    assert json.loads(await response.text())["text"] == texts(signed)("help.usage_title", command="members")


async def test_export_keeps_members_formulas_inert_for_spreadsheets(db_url):
    database = Database(db_url)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    hostile = {"U0EQ": '=HYPERLINK("https://evil.example","開く")', "U0AT": "@SUM(1+1)", "U0PLAIN": "田中 一郎"}
    try:
        async with database.write() as session:
            for user_id, name in hostile.items():
                session.add(
                    Member(
                        team_id="T0EXPORT", user_id=user_id, status="approved", name=name, org_type="municipality",
                        pref_code="13", department="-1+1", interests=[], joined_at=now, created_at=now,
                        updated_at=now, approved_at=now,
                    )
                )  # fmt: skip
        content, count = await directory.export_csv(database, team_id="T0EXPORT")
    finally:
        await database.dispose()
    rows = {r["user_id"]: r for r in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))}
    assert count == 3
    assert rows["U0EQ"]["name"] == "'" + hostile["U0EQ"] and rows["U0AT"]["name"] == "'@SUM(1+1)"
    assert rows["U0PLAIN"]["name"] == "田中 一郎" and rows["U0PLAIN"]["department"] == "'-1+1"
