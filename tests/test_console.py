"""`yakuba console` driven through stdin as a person types: a workspace that survives restarts, prompts, help."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.slack.slash import help_menu
from bot.texts import Texts
from handlers import COMMANDS
from storage.community import Features
from tests import cli_flow
from tests.test_cli import ROOT, env

TEXTS = Texts("ja")


async def console(tmp_path: Path, *lines: str) -> str:
    stdin = ("\n".join(lines) + "\n").encode()
    code, out, err = await cli_flow.in_process(["console"], cwd=ROOT, environ=env(tmp_path), stdin=stdin)
    assert code == 0, err
    assert "Traceback" not in out + err
    return out


def rows(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "cli.db") as db:
        return db.execute(sql).fetchall()


def plain(text: str) -> str:
    """Text without mrkdwn's bold and code markers (the terminal renderer may or may not keep them)."""
    return text.replace("*", "").replace("`", "")


async def test_a_restart_keeps_the_joined_member_and_the_channels(tmp_path):
    first = await console(tmp_path, "n", "join tanaka 田中 一郎", "as organiser", "/yakuba setup prefectures", "quit")
    assert TEXTS("prefectures.setup.report", created=47, linked=0, unchanged=0, failed=0) in first
    assert TEXTS("console.restored", people=2, channels=50) not in first

    second = await console(tmp_path, "as tanaka", "as organiser", "/yakuba setup prefectures", "quit")
    # The people and channels came back with the database: no phantom member, no channel made twice.
    assert TEXTS("console.restored", people=2, channels=50) in second
    assert TEXTS("console.you_are", name="田中 一郎") in second
    assert TEXTS("prefectures.setup.report", created=0, linked=0, unchanged=47, failed=0) in second
    assert TEXTS("console.examples.offer").strip() not in second  # offered on the first start only
    assert rows(tmp_path, "SELECT count(*) FROM prefecture_channels") == [(47,)]
    [(tanaka,)] = rows(tmp_path, "SELECT user_id FROM members")
    assert rows(tmp_path, f"SELECT data FROM local_slack_objects WHERE kind = 'user' AND object_id = '{tanaka}'")


async def test_logs_go_to_a_file_and_as_an_unknown_name_says_so(tmp_path):
    out = await console(tmp_path, "n", "join tanaka 田中 一郎", "as suzuki", "/yakuba help", "quit")
    log = tmp_path / "yakuba-console.log"
    assert TEXTS("console.log_file", path=str(log)) in out
    assert out.count(str(log)) == 1
    assert "alembic" in log.read_text("utf-8")  # the migrations logged there...
    assert "alembic" not in out and " INFO " not in out and "WARNING" not in out  # ...and not on screen
    assert TEXTS("console.unknown_user", name="suzuki") in out
    after = out.split("as suzuki", 1)[1]
    assert "@田中 一郎" in after and "@運営 花子" not in after  # the help went to the one who joined
    # Declining the examples loads nothing.
    assert TEXTS("console.examples.skipped") in out
    assert rows(tmp_path, "SELECT count(*) FROM faqs") == [(0,)]


async def test_organisers_see_their_commands_in_help_and_members_do_not(tmp_path):
    out = plain(await console(tmp_path, "n", "/yakuba help", "join tanaka 田中 一郎", "/yakuba help", "quit"))
    as_organiser, as_member = out.split("join tanaka", 1)
    organisers = [plain(TEXTS(key)) for key in help_menu(COMMANDS, Features()).staff]
    assert len(organisers) == 9  # every organisers' line of the built-in community
    assert plain(TEXTS("help.organizer.title")) in as_organiser
    assert all(line in as_organiser for line in organisers)
    assert plain(TEXTS("help.organizer.title")) not in as_member
    assert not any(line in as_member for line in organisers)
    assert plain(TEXTS("help.commands.register.summary")) in as_member


async def test_prompts_take_the_label_as_well_as_the_number(tmp_path):
    out = await console(
        tmp_path,
        "n",
        "join tanaka 田中 一郎",
        "/register",
        "田中 一郎",  # お名前
        "市区町村",  # 所属の種類, by its label
        "東京都",  # 都道府県, by its label
        "千代田",  # 市区町村: the search...
        "千代田区",  # ...and the choice, by its label (only Tokyo's are offered)
        "総務部",  # 部署
        "",  # 役職
        "",  # 興味のある課
        "そうでない",  # not a label: asked again
        "私は現役の公務員です",  # 確認
        "quit",
    )
    assert TEXTS("console.unknown_choice", answer="そうでない") in out
    assert "千代田町" not in out  # 群馬県 千代田町 is not offered to a Tokyo applicant
    assert rows(tmp_path, "SELECT org_type, pref_code, muni_code, status FROM members") == [
        ("municipality", "13", "131016", "pending")
    ]


async def test_a_fresh_database_offers_the_examples_in_one_step(tmp_path):
    out = await console(tmp_path, "y", "/faq ワクチン 保管", "quit")
    [(faqs,)] = rows(tmp_path, "SELECT count(*) FROM faqs")
    [(programs,)] = rows(tmp_path, "SELECT count(*) FROM programs")
    [(sections,)] = rows(tmp_path, "SELECT count(*) FROM sections")
    assert faqs >= 8 and programs >= 5 and sections >= 10
    assert TEXTS("console.examples.loaded", programs=programs, sections=sections, faqs=faqs) in out
    assert TEXTS("console.examples.problems", count=0).split("0")[0] not in out
    assert "-90℃" in out  # the example FAQ answers the question
