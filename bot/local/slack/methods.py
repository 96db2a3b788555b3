"""Web API methods: auth, team, users, conversations.

Each method is `fn(ws, args, root_url) -> dict` (the reply without "ok") and raises SlackError.
Chat, views, reactions and files live in methods_chat.py and register into the same table.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from .state import BOT_ID, BOT_USER_ID, SlackError, Workspace, channel_name_error

Method = Callable[[Workspace, dict, str], dict]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(fn: Method) -> Method:
        METHODS[name] = fn
        return fn

    return register


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def require(args: dict, *names: str) -> None:
    for name in names:
        if args.get(name) in (None, ""):
            messages = [f"[ERROR] missing required field: {name}"]
            raise SlackError("invalid_arguments", response_metadata={"messages": messages})


def id_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def paginate(items: list, args: dict, default_limit: int) -> tuple[list, dict]:
    """Slack cursor pagination: opaque base64 cursors, empty next_cursor on the last page."""
    try:
        limit = int(args.get("limit") or default_limit)
    except ValueError as exc:
        raise SlackError("invalid_limit") from exc
    limit = min(limit, 1000) if limit > 0 else len(items) or 1
    start = 0
    cursor = args.get("cursor")
    if cursor:
        try:
            kind, _, num = base64.b64decode(cursor).decode().partition(":")
            start = int(num)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise SlackError("invalid_cursor") from exc
        if kind != "offset" or start < 0:
            raise SlackError("invalid_cursor")
    end = start + limit
    nxt = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], {"next_cursor": nxt}


def member_channel(ws: Workspace, ref: Any, *, need_bot: bool = True) -> dict:
    ch = ws.visible_channel(ref)
    if need_bot and BOT_USER_ID not in ch["members"]:
        raise SlackError("not_in_channel")
    return ch


# ---------------------------------------------------------------- auth / team
@method("auth.test")
def auth_test(ws: Workspace, args: dict, root: str) -> dict:
    return {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.users[BOT_USER_ID]["name"],
        "team_id": ws.team_id,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


@method("team.info")
def team_info(ws: Workspace, args: dict, root: str) -> dict:
    team = {"id": ws.team_id, "name": ws.team_name, "domain": ws.domain, "email_domain": "", "icon": {}}
    return {"team": team}


# ----------------------------------------------------------------------- users
@method("users.info")
def users_info(ws: Workspace, args: dict, root: str) -> dict:
    require(args, "user")
    return {"user": ws.snapshot(ws.user(args["user"]))}


@method("users.list")
def users_list(ws: Workspace, args: dict, root: str) -> dict:
    page, meta = paginate(list(ws.users.values()), args, 0)
    return {"members": ws.snapshot(page), "cache_ts": 0, "response_metadata": meta}


@method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, args: dict, root: str) -> dict:
    require(args, "email")
    for user in ws.users.values():
        if user["profile"].get("email", "").lower() == str(args["email"]).lower():
            return {"user": ws.snapshot(user)}
    raise SlackError("users_not_found")


# --------------------------------------------------------------- conversations
@method("conversations.open")
def conversations_open(ws: Workspace, args: dict, root: str) -> dict:
    if args.get("channel"):
        ch = ws.visible_channel(args["channel"])
        return {"no_op": True, "already_open": True, "channel": ws.public_channel(ch)}
    users = [u for u in id_list(args.get("users")) if u != BOT_USER_ID]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        return _open_mpim(ws, users)
    user = ws.user(users[0])
    if user["deleted"]:
        raise SlackError("account_inactive")
    existing = ws.dm_for(user["id"], create=False)
    ch = existing or ws.dm_for(user["id"])
    assert ch is not None
    body: dict[str, Any] = {"channel": ws.public_channel(ch) if truthy(args.get("return_im")) else {"id": ch["id"]}}
    if existing:
        body.update(no_op=True, already_open=True)
    return body


def _open_mpim(ws: Workspace, users: list[str]) -> dict:
    """A group DM (Slack allows up to 8 people besides the bot); the same people get the same one back."""
    if len(set(users)) > 8:
        raise SlackError("too_many_users")
    for uid in users:
        if ws.user(uid)["deleted"]:
            raise SlackError("account_inactive")
    existing = ws.mpim_for(users, create=False)
    ch = existing or ws.mpim_for(users)
    assert ch is not None
    body: dict[str, Any] = {"channel": {"id": ch["id"]}}
    if existing:
        body.update(no_op=True, already_open=True)
    return body


@method("conversations.create")
def conversations_create(ws: Workspace, args: dict, root: str) -> dict:
    name = str(args.get("name") or "")
    error = channel_name_error(name)
    if error:
        raise SlackError(error)
    if any(not c["is_im"] and c["name"] == name for c in ws.channels.values()):
        raise SlackError("name_taken")
    ch = ws.add_channel(name, private=truthy(args.get("is_private")), members=[BOT_USER_ID])
    return {"channel": ws.public_channel(ch)}


@method("conversations.list")
def conversations_list(ws: Workspace, args: dict, root: str) -> dict:
    types = set(id_list(args.get("types") or "public_channel"))
    chosen = []
    for ch in ws.channels.values():
        if ch["is_im"]:
            kind = "im"
        elif ch.get("is_mpim"):
            kind = "mpim"
        elif ch["is_private"]:
            kind = "private_channel" if BOT_USER_ID in ch["members"] else None
        else:
            kind = "public_channel"
        if kind in types and not (truthy(args.get("exclude_archived")) and ch["is_archived"]):
            chosen.append(ws.public_channel(ch))
    page, meta = paginate(chosen, args, 100)
    return {"channels": page, "response_metadata": meta}


@method("conversations.info")
def conversations_info(ws: Workspace, args: dict, root: str) -> dict:
    return {"channel": ws.public_channel(ws.visible_channel(args.get("channel")))}


@method("conversations.join")
def conversations_join(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    if ch["is_im"] or ch["is_private"]:
        raise SlackError("method_not_supported_for_channel_type")
    if ch["is_archived"]:
        raise SlackError("is_archived")
    already = BOT_USER_ID in ch["members"]
    ch["members"].add(BOT_USER_ID)
    body: dict[str, Any] = {"channel": ws.public_channel(ch)}
    if already:
        body.update(warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]})
    return body


@method("conversations.invite")
def conversations_invite(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    if ch["is_im"]:
        raise SlackError("method_not_supported_for_channel_type")
    if ch["is_archived"]:
        raise SlackError("is_archived")
    if BOT_USER_ID not in ch["members"]:
        raise SlackError("not_in_channel")
    users = id_list(args.get("users"))
    if not users:
        raise SlackError("no_user")
    errors, ok = [], []
    for uid in users:
        if uid == BOT_USER_ID:
            code = "cant_invite_self"
        elif uid not in ws.users:
            code = "user_not_found"
        elif ws.users[uid]["deleted"]:
            code = "cant_invite"  # deactivated users cannot be invited
        elif uid in ch["members"]:
            code = "already_in_channel"
        else:
            ok.append(uid)
            continue
        errors.append({"user": uid, "ok": False, "error": code})
    if errors and not truthy(args.get("force")):
        raise SlackError(errors[0]["error"], errors=errors)
    ch["members"].update(ok)
    body: dict[str, Any] = {"channel": ws.public_channel(ch)}
    if errors:
        body["errors"] = errors
    return body


@method("conversations.kick")
def conversations_kick(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    uid = args.get("user")
    if uid == BOT_USER_ID:
        raise SlackError("cant_kick_self")
    ws.user(uid)
    if ch["is_im"]:
        raise SlackError("method_not_supported_for_channel_type")
    if ch["is_general"]:
        raise SlackError("cant_kick_from_general")
    if uid not in ch["members"]:
        raise SlackError("not_in_channel")
    ch["members"].discard(uid)
    return {}


@method("conversations.members")
def conversations_members(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    page, meta = paginate(sorted(ch["members"]), args, 100)
    return {"members": page, "response_metadata": meta}


@method("conversations.history")
def conversations_history(ws: Workspace, args: dict, root: str) -> dict:
    ch = member_channel(ws, args.get("channel"))
    oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
    msgs = [
        m
        for m in reversed(ws.history[ch["id"]])
        if m.get("thread_ts") in (None, m["ts"]) and oldest < float(m["ts"]) <= latest
    ]
    page, meta = paginate(msgs, args, 100)
    return {"messages": ws.snapshot(page), "has_more": bool(meta["next_cursor"]), "response_metadata": meta}


@method("conversations.replies")
def conversations_replies(ws: Workspace, args: dict, root: str) -> dict:
    ch = member_channel(ws, args.get("channel"))
    parent = ws.find_message(ch["id"], args.get("ts"))
    ts = parent.get("thread_ts") or parent["ts"]
    msgs = [m for m in ws.history[ch["id"]] if m["ts"] == ts or m.get("thread_ts") == ts]
    page, meta = paginate(msgs, args, 1000)
    return {"messages": ws.snapshot(page), "has_more": bool(meta["next_cursor"]), "response_metadata": meta}


@method("conversations.archive")
def conversations_archive(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    if ch["is_im"]:
        raise SlackError("method_not_supported_for_channel_type")
    if ch["is_general"]:
        raise SlackError("cant_archive_general")
    if ch["is_archived"]:
        raise SlackError("already_archived")
    if BOT_USER_ID not in ch["members"]:
        raise SlackError("not_in_channel")
    ch["is_archived"] = True
    return {}
