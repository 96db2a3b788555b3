"""The directory and /members stats follow the community profile (#16): a custom profile's select fields are
counted by option, and `/kenjinkai members` shows its own fields, never a member's email or phone."""

from __future__ import annotations

import json

import pytest

from bot.blocks.directory import kenjinkai_members_message, stats_message, summary
from bot.config import Settings
from bot.texts import Texts
from storage.community import shipped
from storage.directory import GOVERNMENT_KINDS, Listed, Stats
from tests.membership_flow import channels
from tests.test_profile_registration import PROFILE, submit, values

# A second select field, to see each counted on its own, and a long text that a listing never shows.
PROFILE_PLUS = PROFILE.replace(
    "  - key: prefecture\n",
    "  - key: years\n    kind: select\n    label: {ja: 経験年数, en: Years}\n"
    "    purpose: {ja: 統計に使います, en: For statistics}\n"
    "    options:\n      - {value: young, label: {ja: 5年未満, en: Under 5}}\n"
    "      - {value: old, label: {ja: 5年以上, en: 5 or more}}\n"
    "  - key: note\n    kind: long_text\n    personal: false\n    label: {ja: ひとこと, en: Note}\n"
    "  - key: prefecture\n",
)


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    path = tmp_path / "community.yaml"
    path.write_text(PROFILE_PLUS, encoding="utf-8")
    return settings.model_copy(update={"yakuba_community": str(path)})


def form(*, name: str, role: str | None, years: str | None, phone: str, email: str, note: str = "") -> dict:
    out = values(name=name, role=role, phone=phone, email=email)
    chosen = {"text": {"type": "plain_text", "text": "x"}, "value": years} if years else None
    out["reg_f_years"] = {"registration.field.years": {"type": "static_select", "selected_option": chosen}}
    out["reg_f_note"] = {"registration.field.note": {"type": "plain_text_input", "value": note}}
    return out


async def three_members(signed) -> list[str]:
    """Three approved members in Tokyo (lg.jp: approved at once): two staff, one resident; one left years blank."""
    await channels(signed, ("13",))
    people = []
    for handle, name, role, years, phone in (
        ("kumi", "鈴木 久美", "staff", "young", "03-1111-1111"),
        ("ken", "山田 健", "staff", "old", "03-2222-2222"),
        ("mika", "佐藤 美香", "citizen", None, "03-3333-3333"),
    ):
        user = signed.slack.add_user(handle, name, email=f"{handle}@city.example.lg.jp")["id"]
        await submit(signed, user, form(name=name, role=role, years=years, phone=phone, email=f"{handle}@example.org"))
        people.append(user)
    return people


def section_texts(answer: dict) -> list[str]:
    out = []
    for block in answer.get("blocks", []):
        if block.get("text"):
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
    return out


async def test_members_stats_count_each_select_field_by_option(signed, people):
    texts = signed.yakuba.deps.texts
    await three_members(signed)
    answer = json.loads(await (await signed.command(people.member, "/members", "stats")).text())
    shown = section_texts(answer)

    def breakdown(label: str, *counts: tuple[str, int]) -> str:
        lines = "\n".join(texts("directory.stats.option_line", option=o, count=f"{n:,}") for o, n in counts)
        return texts("directory.stats.by_field", label=label, lines=lines)

    assert breakdown("立場", ("職員", 2), ("住民", 1)) in shown
    assert breakdown("経験年数", ("5年未満", 1), ("5年以上", 1), (texts("directory.stats.unanswered"), 1)) in shown
    assert texts("directory.stats.members", count="3") in shown
    # Nothing in this profile says what government a member works for: no kinds of government, no count of them.
    assert not any(t.startswith(texts("directory.stats.by_kind", lines="")) for t in shown)
    assert texts("directory.stats.governments", count="0") not in shown
    assert answer["text"] == texts("directory.stats.summary_members", members="3")


async def test_kenjinkai_members_show_the_profiles_own_fields_but_no_contact_data(signed, people):
    texts = signed.yakuba.deps.texts
    kumi, ken, mika = await three_members(signed)
    answer = json.loads(await (await signed.command(kumi, "/kenjinkai", "members")).text())
    body = json.dumps(answer, ensure_ascii=False)
    assert texts("directory.kenjinkai.title", prefecture="東京都", count="3") == answer["text"]
    for user in (kumi, ken, mika):
        assert f"<@{user}>" in body
    # Text and select answers, with their labels; selects by the option's label, not its value.
    detail = texts("directory.kenjinkai.detail", label="所属団体", value="まちづくり協議会")
    assert detail in body and texts("directory.kenjinkai.detail", label="立場", value="住民") in body
    assert texts("directory.kenjinkai.detail", label="経験年数", value="5年以上") in body
    assert "citizen" not in body
    # Never contact data (email, phone) nor long text to other members.
    for never in ("example.org", "03-1111-1111", "03-3333-3333", "連絡先メール", "電話番号", "ひとこと"):
        assert never not in body


def test_the_built_in_profile_reads_its_figures_and_listing_as_before():
    texts = Texts("ja")
    stats = Stats(
        members=3,
        governments=2,
        by_prefecture={"13": 2, "27": 1},
        by_kind={k: (2 if k == "city" else 1 if k == "prefecture" else 0) for k in GOVERNMENT_KINDS},
        by_month=[("2027-03", 3)],
    )
    before = stats_message(texts, stats)
    assert stats_message(texts, stats, profile=shipped(), answers={}) == before
    assert [b["type"] for b in before["blocks"]] == ["header", "section", "section", "section", "section", "context"]
    assert summary(texts, stats, shipped()) == summary(texts, stats) == before["text"]
    listed = [Listed("U1", "田中 一郎", "131016", "municipality", "総務課", "係長", {"note": "x"})]
    one = kenjinkai_members_message(texts, pref_code="13", listed=listed, total=1)
    assert kenjinkai_members_message(texts, pref_code="13", listed=listed, total=1, profile=shipped()) == one
    line = texts("directory.kenjinkai.line", user="U1", name="田中 一郎", government="千代田区", department="総務課")
    assert one["blocks"][1]["text"]["text"] == line  # the title (係長) is never listed
