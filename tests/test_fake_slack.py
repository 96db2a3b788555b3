"""The fake Slack, exercised through the real slack_sdk AsyncWebClient (and bolt for inbound payloads)."""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib

import aiohttp
import pytest
import pytest_asyncio
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, AsyncServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.local import requests as lr
from tests.fake_slack import FakeSlack, client_for, started_fake_slack

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def slack():
    fake = await started_fake_slack()
    yield fake
    await fake.stop()


async def slack_error(coro) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


async def expect_errors(cases: list) -> None:
    assert [(await slack_error(call)).response["error"] for call, _ in cases] == [code for _, code in cases]


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(range(i, i + 12)) for i in range(4))  # 4 rows of 4 RGB pixels
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def test_post_message_is_stored_and_recorded(slack: FakeSlack):
    general = slack.add_channel("general")
    client = client_for(slack)
    res = await client.chat_postMessage(channel=general["id"], text="こんにちは", blocks=[{"type": "divider"}])
    assert res["channel"] == general["id"] and res["message"]["text"] == "こんにちは"
    second = await client.chat_postMessage(channel="#general", text="two", thread_ts=res["ts"])
    assert float(second["ts"]) > float(res["ts"])
    stored = slack.messages(general["id"])
    assert [m["text"] for m in stored] == ["こんにちは", "two"]
    assert stored[0]["blocks"] == [{"type": "divider"}] and stored[0]["reply_count"] == 1
    calls = await slack.wait_for("chat.postMessage", count=2)
    assert calls[0].args["channel"] == general["id"] and calls[0].response["ok"] is True
    history = await client.conversations_history(channel=general["id"])
    assert [m["text"] for m in history["messages"]] == ["こんにちは"]


async def test_dm_by_user_id_and_conversations_open_agree(slack: FakeSlack):
    alice = slack.add_user("alice", "Alice")
    client = client_for(slack)
    opened = await client.conversations_open(users=alice["id"])
    posted = await client.chat_postMessage(channel=alice["id"], text="welcome")
    assert posted["channel"] == opened["channel"]["id"] and posted["channel"].startswith("D")
    again = await client.conversations_open(users=[alice["id"]])
    assert again["channel"]["id"] == posted["channel"] and again["already_open"] is True
    assert [m["text"] for m in slack.dm_messages(alice["id"])] == ["welcome"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_post_and_open_errors(slack: FakeSlack):
    client = client_for(slack)
    gone = slack.add_user("gone", deleted=True)
    closed = slack.add_channel("closed", archived=True)
    outside = slack.add_channel("outside", bot_member=False)
    secret = slack.add_channel("secret", private=True, bot_member=False)
    cases = [
        (client.chat_postMessage(channel="C404", text="x"), "channel_not_found"),
        (client.chat_postMessage(channel=closed["id"], text="x"), "is_archived"),
        (client.chat_postMessage(channel=outside["id"], text="x"), "not_in_channel"),
        (client.chat_postMessage(channel=secret["id"], text="x"), "channel_not_found"),
        (client.chat_postMessage(channel=slack.add_channel("ok")["id"]), "no_text"),
        (client.conversations_open(users=gone["id"]), "account_inactive"),
        (client.conversations_open(users="U404"), "user_not_found"),
        (client.users_info(user="U404"), "user_not_found"),
    ]
    await expect_errors(cases)
    assert slack.messages(outside["id"]) == []


async def test_users_list_paginates_with_cursors(slack: FakeSlack):
    made = {slack.add_user(f"user{i}")["id"] for i in range(5)}
    client = client_for(slack)
    pages = [page.data async for page in await client.users_list(limit=2)]  # the response object is reused
    ids = [m["id"] for page in pages for m in page["members"]]
    assert len(pages) == 4 and all(len(p["members"]) <= 2 for p in pages)
    assert len(ids) == len(set(ids)) == 7 and made <= set(ids) and {"U0BOT", "USLACKBOT"} <= set(ids)
    assert pages[-1]["response_metadata"]["next_cursor"] == ""
    assert (await slack_error(client.users_list(cursor="bogus!"))).response["error"] == "invalid_cursor"


async def test_invite_kick_and_their_errors(slack: FakeSlack):
    client = client_for(slack)
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    room = slack.add_channel("room", members=[alice["id"]])
    res = await client.conversations_invite(channel=room["id"], users=[bob["id"]])
    assert res["ok"] and bob["id"] in slack.channel(room["id"])["members"]
    outside = slack.add_channel("outside", bot_member=False)
    archived = slack.add_channel("old", archived=True)
    cases = [
        (client.conversations_invite(channel=room["id"], users=alice["id"]), "already_in_channel"),
        (client.conversations_invite(channel=room["id"], users="U0BOT"), "cant_invite_self"),
        (client.conversations_invite(channel=room["id"], users="U404"), "user_not_found"),
        (client.conversations_invite(channel=archived["id"], users=alice["id"]), "is_archived"),
        (client.conversations_invite(channel="C404", users=alice["id"]), "channel_not_found"),
        (client.conversations_invite(channel=outside["id"], users=alice["id"]), "not_in_channel"),
        (client.conversations_kick(channel=room["id"], user="U0BOT"), "cant_kick_self"),
        (client.conversations_kick(channel=outside["id"], user=bob["id"]), "not_in_channel"),
    ]
    await expect_errors(cases)
    await client.conversations_kick(channel=room["id"], user=alice["id"])
    members = await client.conversations_members(channel=room["id"])
    assert sorted(members["members"]) == sorted([bob["id"], "U0BOT"])


async def test_create_join_list_archive(slack: FakeSlack):
    client = client_for(slack)
    created = await client.conversations_create(name="東京都-tokyo")
    assert created["channel"]["is_member"] is True
    bad_names = [
        ("東京都-tokyo", "name_taken"),
        ("Has Space", "invalid_name_specials"),
        ("a.b", "invalid_name_specials"),
    ]
    for name, code in bad_names:
        assert (await slack_error(client.conversations_create(name=name))).response["error"] == code
    lobby = slack.add_channel("lobby", bot_member=False)
    joined = await client.conversations_join(channel=lobby["id"])
    assert joined["channel"]["is_member"] is True
    await client.conversations_archive(channel=lobby["id"])
    hidden = slack.add_channel("hidden", private=True, bot_member=False)
    listed = await client.conversations_list(types="public_channel,private_channel", exclude_archived=True, limit=1)
    names = [c["name"] async for page in listed for c in page["channels"]]
    assert names == ["東京都-tokyo"] and hidden["name"] not in names


async def test_views_open_push_update_publish(slack: FakeSlack):
    alice = slack.add_user("alice")
    client = client_for(slack)
    modal = {"type": "modal", "callback_id": "reg", "title": {"type": "plain_text", "text": "登録"}, "blocks": []}
    no_trigger = await slack_error(client.views_open(trigger_id=None, view=modal))
    assert no_trigger.response["error"] == "invalid_trigger_id"
    long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    bad = await slack_error(client.views_open(trigger_id=lr.new_trigger_id(alice["id"]), view=long_title))
    assert bad.response["error"] == "invalid_arguments"
    opened = await client.views_open(trigger_id=lr.new_trigger_id(alice["id"]), view={**modal, "external_id": "e1"})
    pushed = await client.views_push(trigger_id=lr.new_trigger_id(alice["id"]), view=modal)
    assert pushed["view"]["root_view_id"] == opened["view"]["id"]
    assert [v["id"] for v in slack.open_views(alice["id"])] == [opened["view"]["id"], pushed["view"]["id"]]
    updated = await client.views_update(external_id="e1", view={**modal, "private_metadata": "step2"})
    assert updated["view"]["id"] == opened["view"]["id"]
    assert slack.views_for(alice["id"])[0]["private_metadata"] == "step2"
    old_hash = opened["view"]["hash"]
    stale = await slack_error(client.views_update(view_id=opened["view"]["id"], hash=old_hash, view=modal))
    assert stale.response["error"] == "hash_conflict"
    assert (await slack_error(client.views_update(view_id="V404", view=modal))).response["error"] == "not_found"
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "ホーム"}}]}
    first = await client.views_publish(user_id=alice["id"], view=home)
    second = await client.views_publish(user_id=alice["id"], view=home)
    assert first["view"]["id"] == second["view"]["id"] and slack.home_view(alice["id"])["blocks"] == home["blocks"]


async def test_files_upload_v2_keeps_png_bytes(slack: FakeSlack):
    room = slack.add_channel("room")
    data = png_bytes()
    res = await client_for(slack).files_upload_v2(
        channel=room["id"], file=data, filename="map.png", title="地図", initial_comment="the map"
    )
    stored = slack.file(res["file"]["id"])
    assert stored["content"] == data and stored["title"] == "地図" and res["file"]["mimetype"] == "image/png"
    [msg] = slack.messages(room["id"])
    assert msg["text"] == "the map" and msg["files"][0]["id"] == res["file"]["id"]
    async with aiohttp.ClientSession() as http, http.get(res["file"]["url_private"]) as got:
        assert await got.read() == data
    assert [c.args["size"] for c in slack.calls_to("upload")] == [len(data)]


async def test_response_url_replies_are_recorded_and_applied(slack: FakeSlack):
    alice = slack.add_user("alice")
    room = slack.add_channel("room", members=[alice["id"]])
    card = await client_for(slack).chat_postMessage(channel=room["id"], text="card")
    url = slack.new_response_url(channel=room["id"], user=alice["id"], message_ts=card["ts"])
    hook = AsyncWebhookClient(url)
    await hook.send(text="only you")
    await hook.send(text="everyone", response_type="in_channel")
    await hook.send(text="card v2", replace_original=True)
    replies = await slack.wait_for_response(count=3)
    assert [r.args["text"] for r in replies] == ["only you", "everyone", "card v2"]
    assert [e["text"] for e in slack.ephemerals(alice["id"])] == ["only you"]
    assert [m["text"] for m in slack.messages(room["id"])] == ["card v2", "everyone"]
    await hook.send(delete_original=True)
    assert [m["text"] for m in slack.messages(room["id"])] == ["everyone"]
    assert (await hook.send(text="sixth")).status_code == 200
    assert (await hook.send(text="too many")).status_code == 404


async def test_rate_limit_honours_retry_after(slack: FakeSlack):
    room = slack.add_channel("room")
    slack.rate_limit("chat.postMessage", retry_after=1)
    client = AsyncWebClient(
        token="xoxb-test", base_url=slack.base_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    )
    await client.chat_postMessage(channel=room["id"], text="once")
    first, second = slack.calls_to("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert len(slack.messages(room["id"])) == 1


async def test_server_error_is_retried(slack: FakeSlack):
    slack.fail("auth.test", status=500)
    client = AsyncWebClient(
        token="xoxb-test", base_url=slack.base_url, retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)]
    )
    assert (await client.auth_test())["user_id"] == "U0BOT"
    assert [c.status for c in slack.calls_to("auth.test")] == [500, 200]


async def test_injected_errors_are_consumed_in_order(slack: FakeSlack):
    room, other = slack.add_channel("room"), slack.add_channel("other")
    client = client_for(slack)
    slack.error("chat.postMessage", "not_in_channel", where={"channel": room["id"]})
    slack.error("chat.postMessage", "is_archived")
    codes = []
    for channel in (other["id"], room["id"], room["id"]):
        try:
            await client.chat_postMessage(channel=channel, text="x")
            codes.append("ok")
        except SlackApiError as exc:
            codes.append(exc.response["error"])
    assert codes == ["is_archived", "not_in_channel", "ok"]
    slack.error("users.info", "user_not_found", times=None)
    for _ in range(3):
        assert (await slack_error(client.users_info(user="U0BOT"))).response["error"] == "user_not_found"
    slack.clear_faults()
    assert (await client.users_info(user="U0BOT"))["user"]["is_bot"] is True


async def test_per_channel_rate_is_enforced(slack: FakeSlack):
    a, b = slack.add_channel("a"), slack.add_channel("b")
    slack.enforce_channel_rate(per_second=1.0)
    bare = client_for(slack, retries=False)
    await bare.chat_postMessage(channel=a["id"], text="1")
    await bare.chat_postMessage(channel=b["id"], text="other channel is fine")
    limited = await slack_error(bare.chat_postMessage(channel=a["id"], text="2"))
    assert limited.response.status_code == 429 and limited.response.headers["Retry-After"] == "1"
    started = time.monotonic()
    await client_for(slack).chat_postMessage(channel=a["id"], text="3")
    assert time.monotonic() - started >= 0.5
    assert [m["text"] for m in slack.messages(a["id"])] == ["1", "3"]


async def test_workspace_budget(slack: FakeSlack):
    room = slack.add_channel("room")
    slack.workspace_budget(per_minute=2)
    client = client_for(slack, retries=False)
    for text in ("1", "2"):
        await client.chat_postMessage(channel=room["id"], text=text)
    over = await slack_error(client.chat_postMessage(channel=room["id"], text="3"))
    assert over.response.status_code == 429 and int(over.response.headers["Retry-After"]) > 50


async def test_workspace_rate_is_a_token_bucket(slack: FakeSlack):
    rooms = [slack.add_channel(f"room{i}")["id"] for i in range(4)]
    slack.workspace_rate(2.0, burst=3)
    client = client_for(slack, retries=False)
    for room in rooms[:3]:  # the burst: three at once
        await client.chat_postMessage(channel=room, text="burst")
    over = await slack_error(client.chat_postMessage(channel=rooms[3], text="over"))
    assert over.response.status_code == 429 and over.response.headers["Retry-After"] == "1"
    assert [len(slack.messages(r)) for r in rooms] == [1, 1, 1, 0]


async def test_dropped_connection_is_a_client_error(slack: FakeSlack):
    slack.drop("auth.test", times=2)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await AsyncWebClient(token="xoxb-test", base_url=slack.base_url).auth_test()  # default: one retry
    assert [c.status for c in slack.calls_to("auth.test")] == [0, 0]
    slack.drop("auth.test")
    assert (await client_for(slack).auth_test())["ok"] is True


async def test_delay_auth_and_unknown_method():
    async with FakeSlack(tokens=["xoxb-good"]) as fake:
        fake.delay("auth.test", 0.3)
        started = time.monotonic()
        await client_for(fake, token="xoxb-good").auth_test()
        assert time.monotonic() - started >= 0.3
        assert (await slack_error(client_for(fake, token="xoxb-bad").auth_test())).response["error"] == "invalid_auth"
        unknown = await slack_error(client_for(fake, token="xoxb-good").api_call("nope.never"))
        assert unknown.response["error"] == "unknown_method"


async def test_wait_for_timeout_lists_seen_calls_and_on_call(slack: FakeSlack):
    seen = []
    slack.on_call(lambda call: seen.append(call.method))
    await client_for(slack).auth_test()
    with pytest.raises(AssertionError, match=r"auth\.test"):
        await slack.wait_for("chat.postMessage", timeout=0.1)
    assert seen == ["auth.test"]


async def test_update_delete_ephemeral_reactions(slack: FakeSlack):
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    room = slack.add_channel("room", members=[alice["id"]])
    client = client_for(slack)
    posted = await client.chat_postMessage(channel=room["id"], text="v1")
    await client.chat_update(channel=room["id"], ts=posted["ts"], text="v2")
    await client.reactions_add(channel=room["id"], timestamp=posted["ts"], name="white_check_mark")
    [msg] = slack.messages(room["id"])
    assert msg["text"] == "v2" and "edited" in msg and msg["reactions"][0]["count"] == 1
    link = await client.chat_getPermalink(channel=room["id"], message_ts=posted["ts"])
    assert link["permalink"].endswith(posted["ts"].replace(".", ""))
    theirs = slack.ws.append_message(room["id"], {"user": alice["id"], "text": "mine"})
    cases = [
        (client.chat_update(channel=room["id"], ts="1.000001", text="x"), "message_not_found"),
        (client.chat_update(channel=room["id"], ts=theirs["ts"], text="x"), "cant_update_message"),
        (client.chat_postEphemeral(channel=room["id"], user=bob["id"], text="x"), "user_not_in_channel"),
    ]
    await expect_errors(cases)
    await client.chat_postEphemeral(channel=room["id"], user=alice["id"], text="psst")
    await client.chat_delete(channel=room["id"], ts=posted["ts"])
    assert [m["text"] for m in slack.messages(room["id"])] == ["mine"]
    assert [e["text"] for e in slack.ephemerals(alice["id"], room["id"])] == ["psst"]


async def test_inbound_payloads_are_understood_by_bolt(slack: FakeSlack):
    alice = slack.add_user("alice")
    app = AsyncApp(signing_secret="s3cret", client=client_for(slack))
    got: dict = {}
    event_seen = asyncio.Event()

    @app.command("/faq")
    async def faq(ack, body, context, respond, client):
        got["command"] = (context.user_id, context.team_id, body["text"])
        await ack()
        await respond("見つかりました")
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={"type": "modal", "callback_id": "ask", "title": {"type": "plain_text", "text": "質問"}, "blocks": []},
        )

    @app.view("ask")
    async def submitted(ack, view, context):
        got["view"] = (context.user_id, view["state"]["values"]["q"]["text"]["value"], view["private_metadata"])
        await ack()

    @app.action("pick")
    async def picked(ack, action, context):
        got["action"] = (context.user_id, context.channel_id, action["value"])
        await ack()

    @app.options("where")
    async def options(ack, body):
        await ack(options=[{"text": {"type": "plain_text", "text": body["value"]}, "value": "1"}])

    @app.event("team_join")
    async def joined(event, context):
        got["event"] = (event["user"]["id"], context.team_id)
        event_seen.set()

    async def send(body: bytes, timestamp: int | None = None):
        request = AsyncBoltRequest(body=body.decode(), headers=lr.sign(body, "s3cret", timestamp))
        return await app.async_dispatch(request)

    url = slack.new_response_url(channel="C1", user=alice["id"])
    me = {"user_id": alice["id"]}
    assert (await send(lr.command_body("/faq", "予約", **me, channel_id="C1", response_url=url))).status == 200
    await slack.wait_for("views.open")
    [view] = slack.views_for(alice["id"])
    values = lr.state_values({"q": {"text": "接種"}})
    assert (await send(lr.view_submission_body(**me, view=view, values=values, private_metadata="m"))).status == 200
    assert (await send(lr.block_actions_body(**me, action_id="pick", value="7", channel_id="C1"))).status == 200
    suggested = await send(lr.block_suggestion_body(**me, action_id="where", value="東京", view=view))
    assert json.loads(suggested.body)["options"][0]["text"]["text"] == "東京"
    assert (await send(lr.event_body(lr.team_join_event(slack.user(alice["id"]))))).status == 200
    assert (await send(lr.url_verification_body("abc"))).body == '{"challenge": "abc"}'
    assert (await send(lr.event_body({"type": "team_join"}), timestamp=int(time.time()) - 3600)).status == 401
    await slack.wait_for_response()
    assert got["command"] == (alice["id"], "T0LOCAL", "予約")
    assert got["view"] == (alice["id"], "接種", "m") and got["action"] == (alice["id"], "C1", "7")
    assert slack.ephemerals(alice["id"])[0]["text"] == "見つかりました"
    await asyncio.wait_for(event_seen.wait(), 5)  # events are acked first and handled in a task
    assert got["event"] == (alice["id"], "T0LOCAL")
