"""Builders for Slack-shaped inbound requests (events, commands, interactivity, options) plus signing.

Used by `yakuba console`, `yakuba demo` and the tests to talk to the bot exactly as Slack does:

    body = command_body("/faq", "予約", user_id="U1", channel_id="C1", response_url=slack.new_response_url())
    await http.post(url, data=body, headers=sign(body, secret))

Trigger ids carry the user id (`<n>.<user>.<hex>`) so the local Slack knows whose modal views.open opens.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0LOCAL"
TEAM_DOMAIN = "yakuba-local"
APP_ID = "A0LOCAL"
BOT_USER_ID = "U0BOT"
VERIFICATION_TOKEN = "local-verification-token"  # deprecated by Slack, still sent; bolt ignores it
UNREACHABLE_RESPONSE_URL = "http://127.0.0.1:9/respond/none"  # pass slack.new_response_url() to capture replies

_counter = itertools.count(1)


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with a request: timestamp, v0 signature and content type."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    is_json = body.lstrip()[:1] == b"{"
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
    }


def new_trigger_id(user_id: str = "U0LOCAL") -> str:
    return f"{next(_counter)}.{user_id}.{secrets.token_hex(16)}"


def _now_ts() -> str:
    return f"{time.time():.6f}"


def _user(user_id: str, team_id: str, user_name: str | None = None) -> dict:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str) -> dict:
    return {"id": team_id, "domain": TEAM_DOMAIN}


def _form_payload(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()


# ----------------------------------------------------------------------- events
def event_body(
    event: dict,
    *,
    team_id: str = TEAM_ID,
    event_id: str | None = None,
    api_app_id: str = APP_ID,
    event_time: int | None = None,
) -> bytes:
    """An Events API `event_callback` envelope around `event` (event_ts filled in if missing)."""
    event = {**event}
    event.setdefault("event_ts", _now_ts())
    payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{int(time.time())}{next(_counter):06d}{secrets.token_hex(3).upper()}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(12)}",
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def team_join_event(user: dict) -> dict:
    return {"type": "team_join", "user": user}


def member_joined_channel_event(
    user_id: str, channel_id: str, *, inviter: str | None = None, channel_type: str = "C", team_id: str = TEAM_ID
) -> dict:
    event = {
        "type": "member_joined_channel",
        "user": user_id,
        "channel": channel_id,
        "channel_type": channel_type,
        "team": team_id,
    }
    if inviter:
        event["inviter"] = inviter
    return event


def app_home_opened_event(
    user_id: str, *, channel_id: str = "D0LOCAL", tab: str = "home", view: dict | None = None
) -> dict:
    event: dict[str, Any] = {"type": "app_home_opened", "user": user_id, "channel": channel_id, "tab": tab}
    if view is not None:
        event["view"] = view
    return event


def message_event(
    user_id: str,
    channel_id: str,
    text: str,
    *,
    channel_type: str | None = None,
    thread_ts: str | None = None,
    ts: str | None = None,
    team_id: str = TEAM_ID,
) -> dict:
    kind = channel_type or {"D": "im", "G": "group"}.get(channel_id[:1], "channel")
    event = {
        "type": "message",
        "user": user_id,
        "text": text,
        "ts": ts or _now_ts(),
        "channel": channel_id,
        "channel_type": kind,
        "team": team_id,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": secrets.token_hex(2),
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
            }
        ],
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def url_verification_body(challenge: str) -> bytes:
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}).encode()


# --------------------------------------------------------------------- commands
def command_body(
    command: str,
    text: str = "",
    *,
    user_id: str,
    channel_id: str,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str | None = None,
    user_name: str | None = None,
    channel_name: str | None = None,
    api_app_id: str = APP_ID,
) -> bytes:
    """A slash command, form-encoded as Slack sends it."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name or ("directmessage" if channel_id.startswith("D") else "general"),
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url or UNREACHABLE_RESPONSE_URL,
        "trigger_id": trigger_id or new_trigger_id(user_id),
    }
    return urlencode(fields).encode()


# -------------------------------------------------------------- interactivity
def block_actions_body(
    *,
    user_id: str,
    action_id: str,
    value: str | None = None,
    block_id: str | None = None,
    selected_option: dict | None = None,
    channel_id: str | None = None,
    message: dict | None = None,
    view: dict | None = None,
    container: dict | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    team_id: str = TEAM_ID,
    action_type: str | None = None,
    action_extra: dict | None = None,
    state_values: dict | None = None,
    api_app_id: str = APP_ID,
) -> bytes:
    """A block_actions payload for a click in a message (channel_id/message) or a view (view)."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or (view and "view") or "actions",
        "type": action_type or ("static_select" if selected_option is not None else "button"),
        "action_ts": _now_ts(),
    }
    if value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = selected_option
    action.update(action_extra or {})
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(user_id),
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["view"] = _view_with_state(view, state_values, team_id)
        payload["container"] = container or {"type": "view", "view_id": payload["view"]["id"]}
    else:
        msg = message or {"type": "message", "ts": _now_ts(), "user": BOT_USER_ID, "text": ""}
        payload["container"] = container or {
            "type": "message",
            "message_ts": msg.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["message"] = msg
        payload["state"] = {"values": state_values or {}}
        payload["response_url"] = response_url or UNREACHABLE_RESPONSE_URL
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "directmessage" if channel_id[:1] == "D" else "general"}
    return _form_payload(payload)


def state_values(simple: dict[str, dict[str, Any]]) -> dict:
    """{"block": {"action": "text"}} -> Slack's view.state.values; dict leaves are passed through as-is."""
    return {
        block: {
            action: value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}
            for action, value in actions.items()
        }
        for block, actions in simple.items()
    }


def _view_with_state(view: dict, values: dict | None, team_id: str, private_metadata: str | None = None) -> dict:
    out = {
        "id": view.get("id") or f"V{secrets.token_hex(5).upper()}",
        "team_id": team_id,
        "type": view.get("type", "modal"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", "") if private_metadata is None else private_metadata,
        "callback_id": view.get("callback_id", ""),
        "state": {"values": values if values is not None else view.get("state", {}).get("values", {})},
        "hash": view.get("hash") or f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": view.get("title"),
        "clear_on_close": bool(view.get("clear_on_close")),
        "notify_on_close": bool(view.get("notify_on_close")),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": view.get("previous_view_id"),
        "root_view_id": view.get("root_view_id") or view.get("id"),
        "app_id": APP_ID,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": team_id,
        "bot_id": view.get("bot_id", "B0BOT"),
    }
    return out


def view_submission_body(
    *,
    user_id: str,
    view: dict,
    values: dict,
    private_metadata: str | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    api_app_id: str = APP_ID,
) -> bytes:
    """A view_submission of `view` (as opened) with Slack-shaped `values` (see state_values())."""
    payload = {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(user_id),
        "view": _view_with_state(view, values, team_id, private_metadata),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _form_payload(payload)


def view_closed_body(
    *, user_id: str, view: dict, is_cleared: bool = False, team_id: str = TEAM_ID, api_app_id: str = APP_ID
) -> bytes:
    payload = {
        "type": "view_closed",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "view": _view_with_state(view, None, team_id),
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _form_payload(payload)


def block_suggestion_body(
    *,
    user_id: str,
    action_id: str,
    value: str,
    view: dict | None = None,
    block_id: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
) -> bytes:
    """An external_select options request (bolt: app.options(action_id))."""
    payload: dict[str, Any] = {
        "type": "block_suggestion",
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id or "suggest",
        "value": value,
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["view"] = _view_with_state(view, None, team_id)
        payload["container"] = {"type": "view", "view_id": payload["view"]["id"]}
    else:
        payload["container"] = {"type": "message"}
    return _form_payload(payload)
