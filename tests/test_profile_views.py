"""Views follow the community profile (#16 point 3): a transfer keeps the other edits, the manifest and
commands of switched-off features, the export's own columns, and the demo with each shipped profile."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.blocks import registration as ids
from bot.cli import main
from bot.config import Settings
from bot.local import demo
from bot.local.demo.profile import BY_KEY, BY_KIND
from bot.texts import Texts
from storage.community import parse, shipped
from storage.directory import EXPORT_COLUMNS, answer_columns
from tests.membership_flow import channels, member, open_form
from tests.test_profile_registration import PROFILE, values

COMMUNITIES = Path(__file__).resolve().parent.parent / "storage" / "data" / "communities"
JOIN = "demo.journey.welcome"
LONG_PROFILE = PROFILE.replace(
    "  - key: prefecture\n",
    "  - key: note\n    kind: long_text\n    max_length: 3000\n    personal: false\n"
    "    label: {ja: ひとこと, en: Note}\n  - key: prefecture\n",
)


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    path = tmp_path / "community.yaml"
    path.write_text(LONG_PROFILE, encoding="utf-8")
    return settings.model_copy(update={"yakuba_community": str(path)})


def form(*, pref: str, phone: str, note: str = "", **over) -> dict:
    out = values(phone=phone, **over)
    out[ids.PREF_BLOCK][ids.PREF]["selected_option"]["value"] = pref
    out["reg_f_note"] = {"registration.field.note": {"type": "plain_text_input", "value": note}}
    return out


async def _approved_in_tokyo(signed, user_id: str) -> None:
    await channels(signed, ("13", "27"))
    view = await open_form(signed, user_id)
    await signed.submit(user_id, view, form(pref="13", phone="03-1234-5678", note="はじめまして"))
    await signed.settle()
    assert (await member(signed, user_id)).status == "approved"


@pytest.mark.parametrize("note", ["よろしくお願いします", "長" * 2900], ids=["fits", "too-long-for-metadata"])
async def test_transfer_with_other_edits_keeps_them_all(signed, people, note):
    user = signed.slack.add_user("kumi", "鈴木 久美", email="kumi@city.example.lg.jp")["id"]
    await _approved_in_tokyo(signed, user)

    view = await open_form(signed, user)
    answer = await (await signed.submit(user, view, form(pref="27", phone="06-1111-2222", note=note))).json()
    assert answer["response_action"] == "push" and answer["view"]["callback_id"] == ids.TRANSFER_VIEW
    metadata = answer["view"]["private_metadata"]
    assert len(metadata) <= 3000  # Slack's limit
    await signed.settle()
    row = await member(signed, user)
    assert row.pref_code == "13"  # the move waits for the confirmation
    if "answers" not in json.loads(metadata):  # too long to travel: the profile's own answers are kept at once
        assert len(note) > 2000 and row.answers["note"] == note

    response = await signed.submit(user, answer["view"], {})
    assert (await response.json())["response_action"] == "clear"
    await signed.settle()
    row = await member(signed, user)
    assert row.pref_code == "27" and row.status == "approved"
    assert row.answers["phone"] == "06-1111-2222" and row.answers["note"] == note
    assert row.consent_version == "2026-11"


async def test_a_forged_transfer_metadata_saves_no_unknown_answer(signed, people):
    user = signed.slack.add_user("kumi", "鈴木 久美", email="kumi@city.example.lg.jp")["id"]
    await _approved_in_tokyo(signed, user)
    view = await open_form(signed, user)
    answer = await (await signed.submit(user, view, form(pref="27", phone="06-1111-2222"))).json()
    confirm = dict(answer["view"])
    data = json.loads(confirm["private_metadata"])
    data["answers"]["is_admin"] = "yes"
    confirm["private_metadata"] = json.dumps(data, ensure_ascii=False)
    await signed.submit(user, confirm, {})
    await signed.settle()
    row = await member(signed, user)
    assert "is_admin" not in row.answers and row.answers["phone"] == "06-1111-2222"


def test_profile_parses():
    assert parse(yaml.safe_load(LONG_PROFILE)).field("note").limit == 3000


def manifest_of(tmp_path, features: str | None) -> dict:
    env = {"YAKUBA_LANG": "ja"}
    if features is not None:
        path = tmp_path / "off.yaml"
        path.write_text(PROFILE.replace("features: {sections: false}", features), encoding="utf-8")
        env["YAKUBA_COMMUNITY"] = str(path)
    result = CliRunner().invoke(main, ["manifest", "--socket"], env=env)
    assert result.exit_code == 0, result.output
    return {c["command"]: c for c in yaml.safe_load(result.output)["features"]["slash_commands"]}


def test_manifest_leaves_out_the_commands_of_features_switched_off(tmp_path):
    ja = Texts("ja")
    everything = manifest_of(tmp_path, None)
    assert {"/kenjinkai", "/ka", "/programs", "/members"} <= set(everything)
    assert everything["/members"]["usage_hint"] == ja("help.commands.members.hint")

    off = manifest_of(
        tmp_path,
        "features: {prefecture_channels: false, sections: false, programs: false, directory_map: false}",
    )
    assert set(everything) - set(off) == {"/kenjinkai", "/ka", "/programs"}
    assert off["/members"]["usage_hint"] == ja("help.commands.members.hint_no_map")
    assert off["/members"]["description"] == ja("help.commands.members.summary_no_map")
    assert "map" not in off["/members"]["usage_hint"]


def test_a_broken_profile_gives_no_manifest(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.replace("features: {sections: false}", "features: {maps: true}"), encoding="utf-8")
    result = CliRunner().invoke(main, ["manifest", "--socket"], env={"YAKUBA_COMMUNITY": str(path)})
    assert result.exit_code != 0 and "features.maps" in result.output and "slash_commands" not in result.output


async def test_a_command_of_a_switched_off_feature_answers_one_kind_line(signed, people):
    texts = signed.yakuba.deps.texts
    for command, text in (("/ka", ""), ("/ka", "join 総務課")):
        answer = json.loads(await (await signed.command(people.member, command, text)).text())
        assert answer["text"] == texts("help.feature_off") and "blocks" not in answer
    answer = json.loads(await (await signed.command(people.member, "/kenjinkai")).text())
    assert answer.get("text") != texts("help.feature_off")  # prefecture channels stay on in this profile


async def test_the_map_verb_answers_one_kind_line_when_the_map_is_off(signed, people, tmp_path):
    features = signed.yakuba.deps.community.features.model_copy(update={"directory_map": False})
    signed.yakuba.deps.community = signed.yakuba.deps.community.model_copy(update={"features": features})
    texts = signed.yakuba.deps.texts
    answer = json.loads(await (await signed.command(people.member, "/members", "map")).text())
    assert answer["text"] == texts("help.feature_off")
    await signed.settle()
    assert signed.slack.calls_to("files.uploadV2") == [] and signed.slack.calls_to("files.upload") == []
    answer = json.loads(await (await signed.command(people.member, "/members", "stats")).text())
    assert answer.get("text") != texts("help.feature_off")


def export_rows(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    text = content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    return header, list(csv.DictReader(io.StringIO(text)))


async def test_members_export_has_a_column_per_profile_field_named_by_key(signed, people, tmp_path):
    user = signed.slack.add_user("kumi", "鈴木 久美", email="kumi@city.example.lg.jp")["id"]
    await _approved_in_tokyo(signed, user)
    response = await signed.command(people.organizer, "/members", "export")
    assert json.loads(await response.text())["text"] == signed.yakuba.deps.texts("directory.export.started")
    await signed.settle()
    [stored] = signed.slack.files()
    header, rows = export_rows(signed.slack.file(stored["id"])["content"])
    own = ["email", "phone", "organisation", "role", "note"]  # name and prefecture fill the built-in columns
    assert header == [*EXPORT_COLUMNS, *own]
    kumi = next(r for r in rows if r["user_id"] == user)
    assert (kumi["name"], kumi["prefecture"]) == ("佐藤 花子", "東京都")
    assert [kumi[k] for k in own] == ["hanako@example.org", "03-1234-5678", "まちづくり協議会", "staff", "はじめまして"]

    # The CLI writes the same file (run in a thread: it starts its own event loop).
    path = str(tmp_path / "members.csv")
    env = {
        "DATABASE_URL": signed.yakuba.deps.settings.database_url,
        "YAKUBA_COMMUNITY": signed.yakuba.deps.settings.yakuba_community,
        "YAKUBA_LANG": "ja",
        "SLACK_BOT_TOKEN": "",
    }
    result = await asyncio.to_thread(CliRunner().invoke, main, ["export", "members", path], env=env)
    assert result.exit_code == 0, result.output
    with open(path, "rb") as exported:
        cli_header, cli_rows = export_rows(exported.read())
    assert cli_header == header and next(r for r in cli_rows if r["user_id"] == user) == kumi


def test_the_built_in_profile_adds_no_export_column():
    assert answer_columns(shipped()) == [] and answer_columns(None) == []
    clash = parse(yaml.safe_load(PROFILE.replace("key: role", "key: status")))
    assert [header for header, _ in answer_columns(clash)] == ["email", "phone", "organisation", "answers.status"]


def test_demo_with_the_local_letter_profile_asks_its_fields_and_no_public_servant_check():
    shipped_file = Path(__file__).resolve().parent.parent / "storage" / "data" / "communities" / "local-letter.yaml"
    result = CliRunner().invoke(
        main, ["demo", "--community", str(shipped_file)], env={"YAKUBA_LANG": "ja", "COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    ja, letter = Texts("ja", markup=False), shipped("local-letter")
    assert letter.welcome.ja in out
    form_at = out.index(ja("demo.profile.form", community=letter.name, count=len(letter.fields)))
    labels = [out.index(f.label.ja, form_at) for f in letter.fields]
    assert labels == sorted(labels)  # the profile's fields, in its order
    # The card the organiser approves shows the applicant's phone and organisation.
    approve_at = out.index(ja("demo.profile.approve"))
    card = out[labels[-1] : approve_at]
    for key in ("phone", "organisation"):
        answer = BY_KEY.get(key) or BY_KIND[letter.field(key).kind]
        assert letter.field(key).label.ja in card and answer in card
    # Open to anyone: no public-servant statement, no eligibility refusal.
    assert shipped().eligibility.statement.ja not in out
    for key in ("demo.profile.not_eligible", "registration.profile.eligibility_missing"):
        assert ja(key) not in out
    assert ja("demo.profile.mydata") in out and f"version: {letter.consent.version}" in out


def _journey_one(settings: Settings) -> list[str]:
    lines: list[str] = []
    assert asyncio.run(demo.run(settings, lang="ja", printer=lambda line: lines.append(str(line)), only=[JOIN])) == 0
    return lines


def test_demo_with_the_built_in_profile_file_walks_journey_one_exactly_as_the_default_demo():
    default = Settings(_env_file=None, yakuba_lang="ja")
    explicit = default.model_copy(update={"yakuba_community": str(COMMUNITIES / "online-shiyakusho.yaml")})
    expected, shown = _journey_one(default), _journey_one(explicit)
    assert f"=== {Texts('ja')(JOIN)} ===" in expected and len(expected) > 50  # journey 1 itself, not an early exit
    assert shown == expected
