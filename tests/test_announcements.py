"""Journey 4, the organiser's side: form, preview, permissions, forged clicks, hostile text, duplicates."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks import announcements as ui
from bot.local import requests as req
from storage import announcements as store
from tests.announce_flow import (
    all_prefecture_channels,
    announce,
    button,
    click,
    command,
    form_preview,
    latest,
    make_lead,
    posts_to,
    preview,
)


def texts(signed):
    return signed.yakuba.deps.texts


def organizer_posts(signed) -> list:
    return [c for c in signed.slack.calls_to("chat.postMessage") if (c.args.get("metadata") or {})]


async def test_preview_shows_the_exact_message_and_nothing_goes_out_before_send(signed, people):
    await all_prefecture_channels(signed)
    shown = await preview(signed, people.organizer, "pref:13,27 *交流会* のお知らせ")
    t = texts(signed)
    assert shown["text"] == t("announcements.preview.title_channels", count=2)
    assert t("announcements.targets.prefs", names="東京都、大阪府") in str(shown["blocks"])
    sent = ui.announcement_message(t, "*交流会* のお知らせ", allow_mentions=False)
    assert all(block in shown["blocks"] for block in sent["blocks"])
    assert button(shown, ui.SEND)["style"] == "primary" and button(shown, ui.CANCEL)["style"] == "danger"
    assert organizer_posts(signed) == []
    answer = await click(signed, people.organizer, ui.SEND, button(shown, ui.SEND)["value"])
    assert answer["text"] == t("announcements.started", count=2)
    assert len(organizer_posts(signed)) == 2
    again = await click(signed, people.organizer, ui.SEND, button(shown, ui.SEND)["value"])  # a double click
    assert again["text"] == t("announcements.already", state=t("announcements.state.done"))
    assert len(organizer_posts(signed)) == 2


async def test_bad_quick_form_gets_short_usage(signed, people):
    t = texts(signed)
    for text in ("all", "nowhere:1 本文", "pref:99 本文", "ほげ県 本文"):
        ack = await command(signed, people.organizer, text)
        assert ack and ack["response_type"] == "ephemeral", text
    assert (await command(signed, people.organizer, "all"))["text"] == t("announcements.errors.usage")
    assert (await command(signed, people.organizer, "pref:99 x"))["text"] == t(
        "announcements.errors.unknown_prefecture", name="99"
    )
    assert (await command(signed, people.organizer, "all 本文")) is None  # no channels yet: said in the reply
    assert signed.slack.responses[-1].args["text"] == t("announcements.errors.no_prefecture_channels")


async def test_non_organiser_is_refused_everywhere(signed, people):
    await all_prefecture_channels(signed)
    t = texts(signed)
    refused = t("announcements.refused")
    for text in ("", "all こんにちは", "status", "cancel 1"):
        ack = await command(signed, people.member, text)
        assert ack["text"] == refused, text
    assert not signed.slack.calls_to("views.open")
    shown = await preview(signed, people.organizer, "all 本物のお知らせ")
    value = button(shown, ui.SEND)["value"]
    for action in (ui.SEND, ui.SEND_AGAIN, ui.CANCEL):
        answer = await click(signed, people.member, action, value)
        assert answer["text"] == refused
    assert (await latest_any(signed)).status == "draft"
    assert organizer_posts(signed) == []


async def test_forged_payloads_are_refused(signed, people):
    await all_prefecture_channels(signed)
    t = texts(signed)
    other = signed.slack.add_user("unei2", "運営 次郎")["id"]
    signed.yakuba.settings.yakuba_organizers = f"{people.organizer},{other}"
    shown = await preview(signed, other, "all 次郎の下書き")
    value = button(shown, ui.SEND)["value"]
    # Another organiser's draft, tampered ids and values: nothing is sent, nothing changes.
    for forged in (value, "0", "-1", "abc", "999999", "1 OR 1=1", None, "9" * 40):
        answer = await click(signed, people.organizer, ui.SEND, forged)
        assert answer["text"] == t("announcements.not_found"), forged
    assert organizer_posts(signed) == []
    await make_lead(signed, people.member, "13")
    for forged in (value, "abc"):
        assert (await click(signed, people.member, ui.CANCEL, forged))["text"] == t("announcements.not_found")
    assert (await latest_any(signed)).status == "draft"


async def test_prefecture_lead_only_in_their_own_prefecture(signed, people):
    channels = await all_prefecture_channels(signed)
    await make_lead(signed, people.member, "13")
    t = texts(signed)
    outside = (
        "all 全国へ",
        "pref:27 大阪へ",
        "pref:13,27 東京と大阪",
        "members 全員へ",
        "broadcast 放送",
        "ka:general x",
    )
    for text in outside:
        ack = await command(signed, people.member, text)
        assert ack["text"] == t("announcements.refused_targets"), text
    answer = await announce(signed, people.member, "東京都 都内の交流会のお知らせ")
    assert answer["text"] == t("announcements.started", count=1)
    assert len(posts_to(signed.slack, channels["13"])) == 1
    assert len(organizer_posts(signed)) == 1
    # The lead's form offers their prefecture only; a forged submission for others is refused.
    await command(signed, people.member)
    view = signed.slack.calls_to("views.open")[-1].response["view"]
    kinds = [o["value"] for b in view["blocks"] if b["block_id"] == "kind" for o in b["element"]["options"]]
    assert kinds == ["prefs"]
    values = form_values(text="大阪へ", kind="prefs", codes=["27"])
    ack = await submit(signed, people.member, view, values)
    assert ack["errors"]["kind"] == t("announcements.refused_targets")
    # Status lists only their own announcements.
    await announce(signed, people.organizer, "pref:27 運営から大阪へ")
    status = await command(signed, people.member, "status")
    assert "都内の交流会" in str(status["blocks"]) and "運営から大阪へ" not in str(status["blocks"])


async def test_hostile_text_is_escaped_unless_mentions_are_allowed(signed, people):
    channels = await all_prefecture_channels(signed)
    hostile = "<!channel> <!here|here> <!everyone> <@U123> @channel & <https://evil.example|click>"
    await announce(signed, people.organizer, f"pref:13 {hostile}")
    [post] = posts_to(signed.slack, channels["13"])
    body = post["blocks"][0]["text"]["text"]
    assert "<" not in body and ">" not in body and "<" not in post["text"]
    assert "&lt;!channel&gt;" in body and "&amp;" in body and "&lt;@U123&gt;" in body
    # 40,000 characters: refused with a clear message, nothing drafted.
    long = "あ" * 40_000
    ack = await command(signed, people.organizer, f"pref:13 {long}")
    assert ack["text"] == texts(signed)("announcements.errors.too_long", limit=3000, length=40_000)
    # With "allow @channel" chosen in the form, the mention tokens come alive (and only those).
    await command(signed, people.organizer)
    view = signed.slack.calls_to("views.open")[-1].response["view"]
    ack = await submit(
        signed, people.organizer, view, form_values(text=hostile, kind="prefs", codes=["27"], allow=True)
    )
    assert ack is None
    shown = form_preview(signed, people.organizer)
    await click(signed, people.organizer, ui.SEND, button(shown, ui.SEND)["value"])
    [post] = posts_to(signed.slack, channels["27"])
    body = post["blocks"][0]["text"]["text"]
    assert "<!channel>" in body and "<@U123>" in body and "<!channel> <!here|here>" not in body
    assert "&lt;https://evil.example|click&gt;" in body and "&amp;" in body


async def test_same_message_to_same_targets_within_ten_minutes_asks_again(signed, people):
    channels = await all_prefecture_channels(signed)
    t = texts(signed)
    await announce(signed, people.organizer, "pref:13 明日は説明会")
    answer = await announce(signed, people.organizer, "pref:13 明日は説明会")
    assert answer["text"] == t("announcements.duplicate.ask", minutes=10)
    assert button(answer, ui.SEND_AGAIN)["style"] == "primary"
    assert len(posts_to(signed.slack, channels["13"])) == 1
    assert (await announce(signed, people.organizer, "pref:27 明日は説明会"))["text"] == t(
        "announcements.started", count=1
    )  # other targets: no question
    confirmed = await click(signed, people.organizer, ui.SEND_AGAIN, button(answer, ui.SEND_AGAIN)["value"])
    assert confirmed["text"] == t("announcements.started", count=1)
    assert len(posts_to(signed.slack, channels["13"])) == 2


async def test_cancel_before_send_and_cancel_stops_pending_deliveries(signed, people):
    channels = await all_prefecture_channels(signed)
    t = texts(signed)
    shown = await preview(signed, people.organizer, "all 取り消すお知らせ")
    answer = await click(signed, people.organizer, ui.CANCEL, button(shown, ui.CANCEL)["value"])
    assert answer["text"] == t("announcements.cancelled", id=button(shown, ui.CANCEL)["value"], count=0)
    assert (await click(signed, people.organizer, ui.SEND, button(shown, ui.SEND)["value"]))["text"] == t(
        "announcements.already", state=t("announcements.state.cancelled")
    )
    # Running: the pacer's cap lets 10 through in a minute, then the organiser cancels from /announce status.
    signed.yakuba.deps.announcer.pacer.per_minute = 10
    shown = await preview(signed, people.organizer, "all 途中で止めるお知らせ")
    await click_no_settle(signed, people.organizer, ui.SEND, button(shown, ui.SEND)["value"])
    await signed.slack.wait_for("chat.postMessage", count=10, where=lambda c: bool(c.args.get("metadata")))
    status = await command_no_settle(signed, people.organizer, "status")
    cancel = button(status, ui.CANCEL)
    await click_no_settle(signed, people.organizer, ui.CANCEL, cancel["value"])  # the sender still waits
    cancelled = t("announcements.cancelled", id=cancel["value"], count=37)
    await signed.slack.wait_for_response(where=lambda c: c.args.get("text") == cancelled)
    # The next minute opens the window: had the cancel left any delivery pending, it would be posted now.
    signed.clock.advance(timedelta(minutes=1, seconds=1))
    await signed.settle()
    row = await latest(signed)
    counts = await store.progress(signed.yakuba.deps.db, announcement_ids=[row.id])
    assert row.status == "cancelled" and counts[row.id]["sent"] == 10 and counts[row.id]["cancelled"] == 37
    assert sum(len(posts_to(signed.slack, c)) for c in channels.values()) == 10


async def test_status_lists_recent_announcements_and_progress(signed, people):
    await all_prefecture_channels(signed)
    await announce(signed, people.organizer, "pref:13 ひとつめ")
    await announce(signed, people.organizer, "all ふたつめ")
    status = await command(signed, people.organizer, "status")
    t = texts(signed)
    body = str(status["blocks"])
    assert t("announcements.status.progress", sent=47, total=47, failed=0, pending=0) in body
    assert t("announcements.status.progress", sent=1, total=1, failed=0, pending=0) in body
    assert body.index("ふたつめ") < body.index("ひとつめ")


async def test_form_opens_validates_and_schedules_in_jst(signed, people):
    await all_prefecture_channels(signed)
    t = texts(signed)
    ack = await command(signed, people.organizer)
    assert ack is None
    view = signed.slack.calls_to("views.open")[-1].response["view"]
    prefs = next(b for b in view["blocks"] if b["block_id"] == "prefs")["element"]
    assert prefs["type"] == "multi_static_select" and len(prefs["options"]) == 47
    ack = await submit(signed, people.organizer, view, form_values(text="", kind=None))
    assert set(ack["errors"]) == {"message", "kind"}
    ack = await submit(signed, people.organizer, view, form_values(text="x", kind="prefs", codes=[]))
    assert ack["errors"] == {"prefs": t("announcements.errors.prefs")}
    past = form_values(text="x", kind="all", later=("2000-01-01", "09:00"))
    assert (await submit(signed, people.organizer, view, past))["errors"]["time"] == t("announcements.errors.past")
    later = form_values(text="予約です", kind="all", later=("2099-04-01", "09:30"))
    assert await submit(signed, people.organizer, view, later) is None
    shown = form_preview(signed, people.organizer)
    assert t("announcements.when.at", at="2099-04-01 09:30") in str(shown["blocks"])
    answer = await click(signed, people.organizer, ui.SEND, button(shown, ui.SEND)["value"])
    assert answer["text"] == t("announcements.scheduled", count=47, at="2099-04-01 09:30")
    row = await latest(signed)
    assert row.status == "scheduled" and row.send_at.isoformat() == "2099-04-01T00:30:00+00:00"
    assert organizer_posts(signed) == []


# ------------------------------------------------------------------------------------------- helpers
def form_values(
    *,
    text: str | None,
    kind: str | None,
    codes: list[str] | None = None,
    allow: bool = False,
    later: tuple[str, str] | None = None,
) -> dict:
    def option(value: str) -> dict:
        return {"text": {"type": "plain_text", "text": value}, "value": value}

    return {
        "message": {"text": {"type": "plain_text_input", "value": text}},
        "kind": {"kind": {"type": "radio_buttons", "selected_option": option(kind) if kind else None}},
        "prefs": {"codes": {"type": "multi_static_select", "selected_options": [option(c) for c in codes or []]}},
        "channels": {"ids": {"type": "multi_conversations_select", "selected_conversations": []}},
        "when": {"mode": {"type": "radio_buttons", "selected_option": option("later" if later else "now")}},
        "date": {"date": {"type": "datepicker", "selected_date": later[0] if later else None}},
        "time": {"time": {"type": "timepicker", "selected_time": later[1] if later else None}},
        "options": {"flags": {"type": "checkboxes", "selected_options": [option("allow_mentions")] if allow else []}},
    }


async def submit(signed, user_id: str, view: dict, values: dict) -> dict | None:
    import json

    body = req.view_submission_body(user_id=user_id, view=view, values=values)
    response = await signed.post(body)
    assert response.status == 200
    text = await response.text()
    await signed.settle()
    return json.loads(text) if text else None


async def latest_any(signed):
    from sqlalchemy import select

    from storage.models import Announcement

    async with signed.yakuba.deps.db.read() as session:
        return await session.scalar(select(Announcement).order_by(Announcement.id.desc()).limit(1))


async def click_no_settle(signed, user_id: str, action_id: str, value: str) -> None:
    url = signed.slack.new_response_url(channel="C0GENERAL", user=user_id)
    body = req.block_actions_body(
        user_id=user_id, action_id=action_id, value=value, channel_id="C0GENERAL", response_url=url
    )
    assert (await signed.post(body)).status == 200


async def command_no_settle(signed, user_id: str, text: str) -> dict:
    import json

    response = await signed.command(user_id, "/announce", text)
    return json.loads(await response.text())
