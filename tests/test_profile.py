"""Community profiles (#16, first part): the shipped profiles, the checks, and the CLI's one-line answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.blocks import registration
from bot.cli import main
from bot.texts import Texts
from storage import community
from storage.community import ProfileProblem
from storage.members import ORG_TYPES

CLI_JA, CLI_EN = Texts("ja", markup=False), Texts("en", markup=False)
BASE = {
    "name": "テスト市役所",
    "welcome": {"ja": "ようこそ"},
    "eligibility": {"who": "anyone"},
    "fields": [{"key": "name", "kind": "text", "label": {"ja": "お名前"}, "purpose": {"ja": "名簿"}}],
    "features": {"prefecture_channels": False},
}


def test_the_built_in_profile_describes_todays_form_exactly():
    profile = community.shipped()
    blocks = [registration.NAME_BLOCK, registration.ORG_TYPE_BLOCK, registration.PREF_BLOCK]
    blocks += [registration.MUNI_BLOCK, registration.DEPT_BLOCK, registration.TITLE_BLOCK, registration.INTERESTS_BLOCK]
    assert [f"reg_{f.key}" for f in profile.fields] == blocks
    org = profile.field("org_type")
    assert tuple(o.value for o in org.options) == ORG_TYPES
    for language, texts in (("ja", Texts("ja")), ("en", Texts("en"))):
        assert [o.label(language) for o in org.options] == [texts(f"registration.org_types.{k}") for k in ORG_TYPES]
        assert profile.eligibility.statement(language) == texts("registration.modal.confirm_option")
    for key, block in (("name", registration.NAME_BLOCK), ("department", registration.DEPT_BLOCK)):
        assert profile.field(key).limit == registration.LIMITS[block]
    assert profile.approval.mode == "manual" and profile.features == community.Features()


@pytest.mark.parametrize("name", community.SHIPPED)
def test_every_shipped_profile_is_valid_and_gives_every_personal_field_a_purpose(name):
    profile = community.shipped(name)
    assert all(f.purpose is not None for f in profile.personal_fields)


def test_local_letter_asks_for_contact_details_and_consent_and_1741_admits_lg_jp_at_once():
    letter = community.shipped("local-letter")
    assert {"email", "phone", "text", "prefecture"} <= {f.kind for f in letter.fields}
    assert letter.eligibility.who == "anyone" and letter.consent is not None and letter.stores_email
    staff = community.shipped("1741")
    assert staff.eligibility.who == "local_government" and not staff.stores_email
    assert staff.approval.approves("tanaka@city.minato.lg.jp") == "lg.jp"
    assert staff.approval.approves("TANAKA@PREF.SAITAMA.LG.JP") == "lg.jp"
    for outsider in ("a@gmail.com", "a@notlg.jp", "a@lg.jp.example.com", "no-at-sign", None):
        assert staff.approval.approves(outsider) is None
    assert community.shipped().approval.approves("a@city.minato.lg.jp") is None  # manual approves no one


def _broken(**changes):
    data = yaml.safe_load(yaml.safe_dump(BASE, allow_unicode=True))
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is None:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    ("changes", "where", "rule"),
    [
        ({"name": None}, "name", "missing"),
        ({"colour": "red"}, "colour", "unknown_key"),
        ({"eligibility__who": "friends"}, "eligibility.who", "not_one_of"),
        ({"eligibility__who": "public_servant"}, "eligibility", "statement_missing"),
        ({"fields__0__kind": "select"}, "fields[0]（name）", "options_missing"),
        ({"fields__0__purpose": None}, "fields[0]（name）", "purpose_missing"),
        ({"fields__0__key": "お名前"}, "fields[0]（お名前）.key", "bad_key"),
        ({"fields__0__max_length": 5000}, "fields[0]（name）.max_length", "too_large"),
        ({"fields": []}, "fields", "empty"),
        ({"approval": {"mode": "auto"}}, "approval", "domains_missing"),
        ({"approval": {"mode": "auto", "domains": ["lg jp"]}}, "approval.domains", "bad_domain"),
        (
            {"consent": {"version": "1", "url": "http://example.jp/terms", "text": {"ja": "同意"}}},
            "consent.url",
            "bad_url",
        ),
        ({"features__prefecture_channels": True}, "", "prefecture_needed"),
    ],
)
def test_a_wrong_profile_names_the_key_and_the_reason(changes, where, rule):
    with pytest.raises(ProfileProblem) as refused:
        community.parse(_broken(**changes))
    assert (refused.value.where, refused.value.rule) == (where, rule)
    CLI_JA(f"cli.profile.rules.{rule}", **refused.value.params)  # every reason has its line, in both languages
    CLI_EN(f"cli.profile.rules.{rule}", **refused.value.params)


def test_two_fields_with_one_key_and_a_municipality_before_its_prefecture_are_refused():
    twice = _broken()
    twice["fields"].append(dict(twice["fields"][0]))
    with pytest.raises(ProfileProblem, match="key_repeated"):
        community.parse(twice)
    order = _broken()
    order["fields"] = [
        {"key": "city", "kind": "municipality", "label": {"ja": "市"}, "purpose": {"ja": "統計"}},
        {"key": "pref", "kind": "prefecture", "label": {"ja": "県"}, "purpose": {"ja": "統計"}},
    ]
    with pytest.raises(ProfileProblem, match="municipality_first"):
        community.parse(order)


def _run(args, tmp_path, **env):
    cwd = Path.cwd()
    os.chdir(tmp_path)  # no stray .env
    try:
        return CliRunner().invoke(main, args, env={"YAKUBA_LANG": "ja", **env})
    finally:
        os.chdir(cwd)


def test_profile_check_says_what_is_wrong_in_one_line_and_serve_refuses_to_start(tmp_path):
    bad = tmp_path / "community.yaml"
    bad.write_text(yaml.safe_dump(_broken(fields__0__kind="select"), allow_unicode=True), encoding="utf-8")
    reason = CLI_JA("cli.profile.rules.options_missing")
    line = CLI_JA("cli.profile.invalid", file=str(bad), where="fields[0]（name）", reason=reason)
    checked = _run(["profile", "check", str(bad)], tmp_path)
    assert (checked.exit_code, checked.output.strip()) == (2, line)
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "YAKUBA_COMMUNITY": str(bad)}
    served = _run(["serve"], tmp_path, **env)
    assert (served.exit_code, served.output.strip()) == (2, line)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [\n", encoding="utf-8")
    assert _run(["profile", "check", str(broken)], tmp_path).exit_code == 2
    missing = _run(["profile", "check", str(tmp_path / "none.yaml")], tmp_path)
    assert missing.output.strip() == CLI_JA("cli.import.missing", file=str(tmp_path / "none.yaml"))


def test_profile_show_prints_the_profile_in_force_as_yaml_that_reads_back_the_same(tmp_path):
    shown = _run(["profile", "show"], tmp_path)
    assert shown.exit_code == 0 and shown.output.startswith("# ")
    assert community.parse(yaml.safe_load(shown.output)) == community.shipped()
    own = tmp_path / "mine.yaml"
    own.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    shown = _run(["profile", "show"], tmp_path, YAKUBA_COMMUNITY=str(own))
    assert str(own) in shown.output.splitlines()[0]
    assert community.parse(yaml.safe_load(shown.output)) == community.parse(BASE)
    usable = _run(["profile", "check", str(own)], tmp_path)
    assert usable.exit_code == 0 and "テスト市役所" in usable.output


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path):
    rows = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    rows += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join([*rows, "name: x", "welcome: {ja: x}", "eligibility: {who: anyone}", "fields: *a7"]))
    with pytest.raises(ProfileProblem):
        community.load(bomb)
