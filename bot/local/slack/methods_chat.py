"""Web API methods: chat, views, reactions, files (registered into methods.METHODS)."""

from __future__ import annotations

import json
import mimetypes
import secrets
import time
from typing import Any

from .blockkit import check_message, check_view
from .methods import id_list, method, require
from .state import APP_ID, BOT_ID, BOT_USER_ID, SlackError, Workspace


def postable(ws: Workspace, ref: Any) -> dict:
    """The channel the bot may post to, or the error Slack gives."""
    ch = ws.visible_channel(ref)
    if ch["is_archived"]:
        raise SlackError("is_archived")
    if ch["is_im"] and ws.users.get(ch["user"], {}).get("deleted"):
        raise SlackError("account_inactive")
    if not ch["is_im"] and BOT_USER_ID not in ch["members"]:
        raise SlackError("not_in_channel")
    return ch


def message_fields(args: dict) -> dict:
    text, blocks, attachments = args.get("text"), args.get("blocks"), args.get("attachments")
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if text and len(text) > 40000:
        raise SlackError("msg_too_long")
    check_message(args)
    return {"text": text or "", "blocks": blocks, "attachments": attachments}


# ------------------------------------------------------------------------ chat
@method("chat.postMessage")
def chat_post_message(ws: Workspace, args: dict, root: str) -> dict:
    ch = postable(ws, args.get("channel"))
    fields = message_fields(args)
    extra = {k: args.get(k) for k in ("thread_ts", "metadata", "username", "icon_emoji", "icon_url")}
    msg = ws.append_message(ch["id"], ws.bot_message(fields.pop("text"), fields.pop("blocks"), **fields, **extra))
    return {"channel": ch["id"], "ts": msg["ts"], "message": ws.snapshot(msg)}


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    user = ws.user(args.get("user"))
    if ch["is_archived"]:
        raise SlackError("is_archived")
    if user["id"] not in ch["members"]:
        raise SlackError("user_not_in_channel")
    fields = message_fields(args)
    ts = ws.new_ts()
    entry = {"channel": ch["id"], "user": user["id"], "ts": ts, "thread_ts": args.get("thread_ts"), **fields}
    ws.ephemeral.append(entry)
    return {"message_ts": ts}


@method("chat.update")
def chat_update(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    msg = ws.find_message(ch["id"], args.get("ts"))
    if msg.get("user") != BOT_USER_ID:
        raise SlackError("cant_update_message")
    if ch["is_archived"]:
        raise SlackError("is_archived")
    for key in ("text", "blocks", "attachments", "metadata"):
        if args.get(key) is not None:
            msg[key] = args[key]
    check_message(msg)
    msg["edited"] = {"user": BOT_USER_ID, "ts": ws.new_ts()}
    return {"channel": ch["id"], "ts": msg["ts"], "text": msg.get("text", ""), "message": ws.snapshot(msg)}


@method("chat.delete")
def chat_delete(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    msg = ws.find_message(ch["id"], args.get("ts"))
    if msg.get("user") != BOT_USER_ID:
        raise SlackError("cant_delete_message")
    ws.history[ch["id"]].remove(msg)
    return {"channel": ch["id"], "ts": msg["ts"]}


@method("chat.getPermalink")
def chat_get_permalink(ws: Workspace, args: dict, root: str) -> dict:
    ch = ws.visible_channel(args.get("channel"))
    msg = ws.find_message(ch["id"], args.get("message_ts"))
    link = f"https://{ws.domain}.slack.com/archives/{ch['id']}/p{msg['ts'].replace('.', '')}"
    return {"channel": ch["id"], "permalink": link}


@method("reactions.add")
def reactions_add(ws: Workspace, args: dict, root: str) -> dict:
    require(args, "name")
    ch = ws.visible_channel(args.get("channel"))
    msg = ws.find_message(ch["id"], args.get("timestamp"))
    name = str(args["name"]).strip(":")
    reactions = msg.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        entry = {"name": name, "users": [], "count": 0}
        reactions.append(entry)
    if BOT_USER_ID in entry["users"]:
        raise SlackError("already_reacted")
    entry["users"].append(BOT_USER_ID)
    entry["count"] += 1
    return {}


# ----------------------------------------------------------------------- views
def trigger_user(ws: Workspace, trigger_id: Any) -> str | None:
    """Triggers made by bot.local.requests look like '<n>.<user id>.<hex>'."""
    if not trigger_id:
        raise SlackError("invalid_trigger_id")
    parts = str(trigger_id).split(".")
    return parts[1] if len(parts) == 3 and parts[1] in ws.users else None


def build_view(ws: Workspace, spec: Any, vid: str, **extra: Any) -> dict:
    check_view(spec)
    view = {
        "id": vid,
        "team_id": ws.team_id,
        "type": spec["type"],
        "blocks": spec.get("blocks", []),
        "private_metadata": spec.get("private_metadata", ""),
        "callback_id": spec.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": spec.get("title"),
        "close": spec.get("close"),
        "submit": spec.get("submit"),
        "clear_on_close": bool(spec.get("clear_on_close")),
        "notify_on_close": bool(spec.get("notify_on_close")),
        "external_id": spec.get("external_id", ""),
        "previous_view_id": None,
        "root_view_id": vid,
        "app_id": APP_ID,
        "app_installed_team_id": ws.team_id,
        "bot_id": BOT_ID,
    }
    view.update(extra)
    return view


def store_view(ws: Workspace, view: dict, user: str | None) -> dict:
    ext = view["external_id"]
    if ext and any(v["view"]["external_id"] == ext and vid != view["id"] for vid, v in ws.views.items()):
        raise SlackError("duplicate_external_id")
    ws.views[view["id"]] = {"view": view, "user": user}
    return {"view": ws.snapshot(view)}


@method("views.open")
def views_open(ws: Workspace, args: dict, root: str) -> dict:
    user = trigger_user(ws, args.get("trigger_id"))
    view = build_view(ws, args.get("view"), ws.new_id("V"))
    result = store_view(ws, view, user)
    ws.stacks[user or ""] = [view["id"]]
    return result


@method("views.push")
def views_push(ws: Workspace, args: dict, root: str) -> dict:
    user = trigger_user(ws, args.get("trigger_id"))
    stack = ws.stacks.setdefault(user or "", [])
    if len(stack) >= 3:
        raise SlackError("push_limit_reached")
    vid = ws.new_id("V")
    view = build_view(
        ws,
        args.get("view"),
        vid,
        previous_view_id=stack[-1] if stack else None,
        root_view_id=stack[0] if stack else vid,
    )
    result = store_view(ws, view, user)
    stack.append(vid)
    return result


@method("views.update")
def views_update(ws: Workspace, args: dict, root: str) -> dict:
    vid, ext = args.get("view_id"), args.get("external_id")
    if not vid and not ext:
        raise SlackError("invalid_arguments", detail="view_id or external_id is required")
    if not vid:
        vid = next((k for k, v in ws.views.items() if v["view"]["external_id"] == ext), None)
    if vid not in ws.views:
        raise SlackError("not_found")
    old = ws.views[vid]["view"]
    if args.get("hash") and args["hash"] != old["hash"]:
        raise SlackError("hash_conflict")
    keep = {k: old[k] for k in ("previous_view_id", "root_view_id", "state")}
    view = build_view(ws, args.get("view"), vid, **keep)
    view["external_id"] = view["external_id"] or old["external_id"]
    return store_view(ws, view, ws.views[vid]["user"])


@method("views.publish")
def views_publish(ws: Workspace, args: dict, root: str) -> dict:
    user = ws.user(args.get("user_id"))
    spec = args.get("view")
    if not isinstance(spec, dict) or spec.get("type") != "home":
        raise SlackError("invalid_arguments", detail="views.publish needs a view of type home")
    old = ws.home.get(user["id"])
    if old and args.get("hash") and args["hash"] != old["hash"]:
        raise SlackError("hash_conflict")
    view = build_view(ws, spec, old["id"] if old else ws.new_id("V"))
    ws.home[user["id"]] = view
    return {"view": ws.snapshot(view)}


# ----------------------------------------------------------------------- files
def file_object(ws: Workspace, f: dict, root: str) -> dict:
    name = f["name"]
    out = {k: v for k, v in f.items() if k != "content"}
    out.update(
        mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
        filetype=name.rsplit(".", 1)[-1].lower() if "." in name else "binary",
        size=len(f["content"] or b""),
        url_private=f"{root}files/{f['id']}/{name}",
        url_private_download=f"{root}files/{f['id']}/{name}",
        permalink=f"https://{ws.domain}.slack.com/files/{BOT_USER_ID}/{f['id']}/{name}",
    )
    return out


@method("files.getUploadURLExternal")
def files_get_upload_url(ws: Workspace, args: dict, root: str) -> dict:
    require(args, "filename", "length")
    fid = ws.new_id("F")
    ws.files[fid] = {
        "id": fid,
        "created": int(time.time()),
        "timestamp": int(time.time()),
        "name": args["filename"],
        "title": args["filename"],
        "user": BOT_USER_ID,
        "alt_txt": args.get("alt_txt"),
        "length": int(args["length"]),
        "content": None,
        "shares": {},
    }
    return {"upload_url": f"{root}upload/v1/{fid}", "file_id": fid}


@method("files.completeUploadExternal")
def files_complete_upload(ws: Workspace, args: dict, root: str) -> dict:
    entries = args.get("files")
    if isinstance(entries, str):
        entries = json.loads(entries)
    if not entries:
        raise SlackError("invalid_arguments", detail="files is required")
    targets = id_list(args.get("channels")) or id_list(args.get("channel_id"))
    chans = [postable(ws, ref) for ref in targets]
    done = []
    for entry in entries:
        f = ws.files.get(entry.get("id"))
        if f is None or f["content"] is None:
            raise SlackError("file_not_found")
        f["title"] = entry.get("title") or f["title"]
        done.append(f)
    for ch in chans:
        objs = [file_object(ws, f, root) for f in done]
        msg = ws.append_message(
            ch["id"],
            ws.bot_message(args.get("initial_comment") or "", files=objs, upload=True, thread_ts=args.get("thread_ts")),
        )
        for f in done:
            kind = "private" if ch["is_private"] else "public"
            f["shares"].setdefault(kind, {}).setdefault(ch["id"], []).append({"ts": msg["ts"]})
    return {"files": [file_object(ws, f, root) for f in done]}


@method("files.info")
def files_info(ws: Workspace, args: dict, root: str) -> dict:
    f = ws.files.get(args.get("file"))
    if f is None or f["content"] is None:
        raise SlackError("file_not_found")
    return {"file": file_object(ws, f, root)}
