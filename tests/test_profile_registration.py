"""Registration follows the community profile (#16): the form, its checks, auto-approval, /mydata export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.blocks import profile_form
from bot.blocks import registration as ids
from bot.config import Settings
from bot.local import requests as req
from bot.texts import Texts
from storage.community import parse
from storage.models import AuditEntry, Member
from tests.membership_flow import channels, member, open_form
from tests.membership_flow import option as chosen

PROFILE = """
name: 地域つなぐ会
welcome: {ja: ようこそ, en: Welcome}
eligibility: {who: anyone}
fields:
  - key: name
    kind: text
    required: true
    max_length: 40
    label: {ja: お名前, en: Name}
    purpose: {ja: 名簿に使います, en: For the register}
  - key: email
    kind: email
    required: true
    label: {ja: 連絡先メール, en: Contact email}
    purpose: {ja: 会報の送付に使います, en: To send the newsletter}
  - key: phone
    kind: phone
    label: {ja: 電話番号, en: Phone}
    purpose: {ja: 緊急連絡に使います, en: For emergencies}
  - key: organisation
    kind: text
    required: true
    label: {ja: 所属団体, en: Organisation}
    purpose: {ja: 紹介に使います, en: For introductions}
  - key: role
    kind: select
    label: {ja: 立場, en: Role}
    purpose: {ja: 統計に使います, en: For statistics}
    options:
      - {value: staff, label: {ja: 職員, en: Staff}}
      - {value: citizen, label: {ja: 住民, en: Resident}}
  - key: prefecture
    kind: prefecture
    required: true
    label: {ja: 都道府県, en: Prefecture}
    purpose: {ja: 県人会のご案内に使います, en: For your prefecture channel}
consent:
  version: "2026-11"
  url: https://example.jp/terms
  text: {ja: 規約に同意します, en: I agree to the terms}
approval:
  mode: auto
  domains: [lg.jp]
features: {sections: false}
"""

KEYS = ["name", "email", "phone", "organisation", "role", "prefecture"]


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    path = tmp_path / "community.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return settings.model_copy(update={"yakuba_community": str(path)})


def community():
    return parse(yaml.safe_load(PROFILE))


def values(*, email: str = "hanako@example.org", consent: bool = True, role: str | None = "staff", **over) -> dict:
    def text(value):
        return {"type": "plain_text_input", "value": value}

    def select(value):
        return {"type": "static_select", "selected_option": chosen(value) if value else None}

    return {
        "reg_f_name": {"registration.field.name": text(over.get("name", "佐藤 花子"))},
        "reg_f_email": {"registration.field.email": {"type": "email_text_input", "value": email}},
        "reg_f_phone": {"registration.field.phone": text(over.get("phone", "03-1234-5678"))},
        "reg_f_organisation": {"registration.field.organisation": text("まちづくり協議会")},
        "reg_f_role": {"registration.field.role": select(role)},
        ids.PREF_BLOCK: {ids.PREF: select("13")},
        profile_form.CONSENT_BLOCK: {
            profile_form.CONSENT: {"type": "checkboxes", "selected_options": [chosen("2026-11")] if consent else []}
        },
    }


async def submit(signed, user_id: str, form: dict) -> dict:
    view = await open_form(signed, user_id)
    response = await signed.submit(user_id, view, form)
    assert response.status == 200
    await signed.settle()
    body = await response.text()
    return json.loads(body) if body else {}


async def auto_applicant(signed, handle: str = "kumi", email: str = "kumi@city.example.lg.jp") -> str:
    """An applicant whose Slack email is under the profile's auto-approved domain (their name tries to ping)."""
    user = signed.slack.add_user(handle, "鈴木 久美", email=email)["id"]
    await submit(signed, user, values(name="<!here> 鈴木"))
    assert (await member(signed, user)).approved_by == "auto"
    return user


def card_count(signed, people) -> int:
    return sum(1 for m in signed.slack.messages(people.admin_channel) if "approval:" in str(m.get("blocks")))


async def test_modal_shows_the_profile_fields_in_order_with_purpose_and_consent(signed, people):
    texts = signed.yakuba.deps.texts
    view = await open_form(signed, people.member)
    intro = texts("registration.modal.intro_auto", community="地域つなぐ会", domains="lg.jp")  # approval: auto
    assert view["blocks"][0]["text"]["text"] == intro
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    fields = community().fields
    assert [b["label"]["text"] for b in inputs[: len(KEYS)]] == [f.label.ja for f in fields]
    assert [b["optional"] for b in inputs[: len(KEYS)]] == [not f.required for f in fields]
    for block, f in zip(inputs, fields, strict=False):
        assert texts.plain("registration.profile.purpose", purpose=f.purpose.ja) in block["hint"]["text"]
    assert inputs[1]["element"]["type"] == "email_text_input"
    assert [o["value"] for o in inputs[4]["element"]["options"]] == ["staff", "citizen"]
    assert len(inputs[5]["element"]["options"]) == 47
    # Open to anyone: no public-servant check; the consent box names the terms' version and links them.
    assert ids.CONFIRM_BLOCK not in [b["block_id"] for b in inputs]
    assert inputs[-1]["block_id"] == profile_form.CONSENT_BLOCK
    assert inputs[-1]["element"]["options"][0]["value"] == "2026-11"
    assert "https://example.jp/terms" in json.dumps(view["blocks"])


async def test_bad_email_phone_option_and_missing_consent_get_inline_errors(signed, people):
    texts = signed.yakuba.deps.texts
    form = values(email="not-an-email", phone="call me", consent=False, role="boss")
    answer = await submit(signed, people.member, form)
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {
        "reg_f_email": texts("registration.profile.email"),
        "reg_f_phone": texts("registration.profile.phone"),
        "reg_f_role": texts("registration.profile.option"),
        profile_form.CONSENT_BLOCK: texts("registration.profile.consent_missing"),
    }
    long = await submit(signed, people.member, values(name="あ" * 41))
    assert long["errors"] == {"reg_f_name": texts("registration.errors.too_long", limit=40, length=41)}
    assert await member(signed, people.member) is None
    assert card_count(signed, people) == 0


async def test_lg_jp_applicant_is_approved_without_a_card(signed, people):
    await channels(signed, ("13",))
    applicant = signed.slack.add_user("kumi", "鈴木 久美", email="kumi@city.example.lg.jp")["id"]
    answer = await submit(signed, applicant, values())
    assert answer["response_action"] == "update"
    row = await member(signed, applicant)
    assert row.status == "approved" and row.approved_by == "auto"
    assert row.name == "佐藤 花子" and row.pref_code == "13" and row.org_type == "other"
    assert row.answers == {
        "email": "hanako@example.org",
        "phone": "03-1234-5678",
        "organisation": "まちづくり協議会",
        "role": "staff",
    }
    assert row.consent_version == "2026-11" and row.consent_at == row.registered_at
    assert card_count(signed, people) == 0
    async with signed.yakuba.deps.db.read() as session:
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.auto_approved"))
        ).one()
    assert audit.detail["rule"] == "lg.jp"
    # The Slack email decided, but only the address typed in the form's email field is kept.
    assert "kumi@city.example.lg.jp" not in json.dumps(row.answers)
    assert signed.slack.calls_to("users.info")


async def test_gmail_applicant_gets_a_card_showing_the_profile_fields(signed, people):
    texts = signed.yakuba.deps.texts
    applicant = signed.slack.add_user("ken", "山田 健", email="ken@gmail.com")["id"]
    answer = await submit(signed, applicant, values())
    assert answer["response_action"] == "update"
    row = await member(signed, applicant)
    assert row.status == "pending"
    assert card_count(signed, people) == 1
    card = next(m for m in signed.slack.messages(people.admin_channel) if "approval:" in str(m.get("blocks")))
    shown = [f["text"] for b in card["blocks"] for f in b.get("fields", [])]
    shown += [e["text"] for b in card["blocks"] if b["type"] == "context" for e in b["elements"]]
    for label, value in (("連絡先メール", "hanako@example.org"), ("所属団体", "まちづくり協議会")):
        assert texts("approvals.card.answer", label=label, value=value) in shown
    assert any(t.startswith(texts("approvals.card.submitted_plain", time="")) for t in shown)
    listed = json.loads(await (await signed.command(people.organizer, "/approvals")).text())
    lines = [e["text"] for b in listed["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert texts("approvals.list.answer", label="連絡先メール", value="hanako@example.org") in lines[0]


async def test_mydata_export_lists_each_answer_with_label_and_purpose(signed, people):
    await submit(signed, people.member, values())
    response = await signed.command(people.member, "/mydata", "export")
    assert response.status == 200
    await signed.settle()
    dm = signed.slack.dm_messages(people.member)[-1]
    data = json.loads(signed.slack.file(dm["files"][0]["id"])["content"])
    listed = {a["key"]: a for a in data["registration_answers"]}
    assert list(listed) == KEYS
    for f in community().fields:
        assert listed[f.key]["label"] == f.label.ja and listed[f.key]["purpose"] == f.purpose.ja
    assert listed["phone"]["value"] == "03-1234-5678" and listed["prefecture"]["value"] == "13"
    assert data["consent"]["version"] == "2026-11"


async def test_removed_field_keeps_its_answer_and_an_edit_replaces_the_asked_ones(signed, people):
    await submit(signed, people.member, values())
    async with signed.yakuba.deps.db.write() as session:
        row = (await session.scalars(select(Member).where(Member.user_id == people.member))).one()
        row.answers = {**row.answers, "years": "5"}  # a field an older version of the profile asked
    await submit(signed, people.member, values(phone=""))
    row = await member(signed, people.member)
    assert row.answers["years"] == "5" and "phone" not in row.answers


def test_demo_with_the_1741_profile_refuses_kindly_then_registers():
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "YAKUBA_LANG": "ja", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--community", "storage/data/communities/1741.yaml"],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    ja = Texts("ja", markup=False)
    steps = ["demo.profile.not_eligible", "registration.profile.eligibility_missing", "demo.profile.approve"]
    positions = [out.index(ja(key)) for key in steps]
    assert positions == sorted(positions)
    assert ja("registration.profile.eligibility_missing") not in out[positions[1] + 1 :]
    assert "東京都 千代田区" in out and ja("demo.profile.mydata") in out


async def test_features_switched_off_leave_help_welcome_and_home(signed, people):
    texts = signed.yakuba.deps.texts
    await signed.event(req.team_join_event(signed.slack.user(people.member)))
    await signed.settle()
    welcome = signed.slack.dm_messages(people.member)[0]
    assert welcome["blocks"][1]["text"]["text"] == "ようこそ"  # the profile's own welcome
    assert texts("onboarding.welcome.step3") not in str(welcome["blocks"])  # no 課 promised
    assert texts("onboarding.welcome.look.start", n=3) in str(welcome["blocks"])

    help_text = json.loads(await (await signed.command(people.member, "/yakuba", "help")).text())
    shown = json.dumps(help_text, ensure_ascii=False)
    assert "`/kenjinkai`" in shown and "`/ka`" not in shown  # sections are off in this profile

    await submit(signed, people.member, values())
    await signed.event(req.app_home_opened_event(people.member))
    await signed.settle()
    home = [b["text"]["text"] for b in signed.slack.home_view(people.member)["blocks"] if b["type"] == "section"]
    assert texts("home.sections", sections=texts("home.no_sections")) not in home
    assert texts("home.kenjinkai", channel=texts("home.no_channel")) in home  # prefecture channels stay on
