"""In-memory state of the local Slack workspace (no I/O here)."""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field
from typing import Any

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0LOCAL"
TEAM_ID = "T0LOCAL"
SLACKBOT_ID = "USLACKBOT"

# Slack: lowercase letters, digits, hyphens, underscores (any script's letters are accepted).
_NAME_OK = re.compile(r"^[\w\-]+$")
_PUNCT_ONLY = re.compile(r"^[_\-]+$")


class SlackError(Exception):
    """A Slack-style failure: becomes {"ok": false, "error": code, ...extra}."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def channel_name_error(name: str) -> str | None:
    """The error code Slack would give for an invalid channel name, else None."""
    if not name:
        return "invalid_name_required"
    if len(name) > 80:
        return "invalid_name_maxlength"
    if _PUNCT_ONLY.match(name):
        return "invalid_name_punctuation"
    if not _NAME_OK.match(name) or any("A" <= ch <= "Z" for ch in name):
        return "invalid_name_specials"
    return None


@dataclass
class Workspace:
    team_id: str = TEAM_ID
    team_name: str = "Yakuba Local"
    domain: str = "yakuba-local"
    users: dict[str, dict] = field(default_factory=dict)
    channels: dict[str, dict] = field(default_factory=dict)  # includes DMs; "members" is a set
    history: dict[str, list[dict]] = field(default_factory=dict)
    ephemeral: list[dict] = field(default_factory=list)
    views: dict[str, dict] = field(default_factory=dict)  # view id -> {"view", "user", "stack"}
    home: dict[str, dict] = field(default_factory=dict)  # user id -> view
    stacks: dict[str, list[str]] = field(default_factory=dict)  # user id -> open modal view ids
    files: dict[str, dict] = field(default_factory=dict)
    _seq: dict[str, int] = field(default_factory=dict)
    _last_us: int = 0
    _dms: dict[str, str] = field(default_factory=dict)  # user id -> DM id: a broadcast to 5,000 DMs looks each up

    def __post_init__(self) -> None:
        self._put_user(BOT_USER_ID, "yakuba", "Yakuba", is_bot=True)
        self.users[BOT_USER_ID]["profile"]["bot_id"] = BOT_ID
        self._put_user(SLACKBOT_ID, "slackbot", "Slackbot")  # is_bot is False, as in Slack

    # ---------------------------------------------------------- persistence
    def export(self) -> dict[str, dict[str, dict]]:
        """Users and channels (DMs included) as JSON-ready data: what a restart needs to stay coherent.

        Messages, views and files are left out: they belong to one session of the console.
        """
        channels = {cid: {**ch, "members": sorted(ch["members"])} for cid, ch in self.channels.items()}
        return {"user": copy.deepcopy(self.users), "channel": copy.deepcopy(channels)}

    def restore(self, objects: dict[str, dict[str, dict]]) -> None:
        """Put back what export() gave; new ids continue after the highest stored one."""
        for uid, user in (objects.get("user") or {}).items():
            self.users[uid] = copy.deepcopy(user)
        for cid, ch in (objects.get("channel") or {}).items():
            self.channels[cid] = {**copy.deepcopy(ch), "members": set(ch.get("members") or ())}
            self.history.setdefault(cid, [])
        for oid in [*self.users, *self.channels]:
            prefix, digits = oid[:1], oid[1:]
            if digits.isdigit() and len(digits) == 8:
                self._seq[prefix] = max(self._seq.get(prefix, 0), int(digits))

    # ----------------------------------------------------------------- ids
    def new_id(self, prefix: str) -> str:
        n = self._seq.get(prefix, 0) + 1
        self._seq[prefix] = n
        return f"{prefix}{n:08d}"

    def new_ts(self) -> str:
        us = max(int(time.time() * 1_000_000), self._last_us + 1)
        self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    # --------------------------------------------------------------- users
    def _put_user(self, uid: str, name: str, real_name: str, **flags: Any) -> dict:
        user = {
            "id": uid,
            "team_id": self.team_id,
            "name": name,
            "deleted": bool(flags.get("deleted", False)),
            "real_name": real_name,
            "tz": "Asia/Tokyo",
            "tz_label": "Japan Standard Time",
            "tz_offset": 32400,
            "profile": {
                "real_name": real_name,
                "display_name": flags.get("display_name", name),
                "email": flags.get("email", f"{name}@example.jp"),
                "image_72": "",
                "team": self.team_id,
            },
            "is_admin": bool(flags.get("is_admin", False)),
            "is_owner": bool(flags.get("is_owner", False)),
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": bool(flags.get("is_bot", False)),
            "is_app_user": False,
            "updated": int(time.time()),
        }
        self.users[uid] = user
        return user

    def add_user(self, name: str, real_name: str | None = None, **flags: Any) -> dict:
        return self._put_user(self.new_id("U"), name, real_name or name, **flags)

    def user(self, uid: Any) -> dict:
        if not isinstance(uid, str) or uid not in self.users:
            raise SlackError("user_not_found")
        return self.users[uid]

    # ------------------------------------------------------------ channels
    def add_channel(
        self, name: str, *, private: bool = False, archived: bool = False, members: Any = (), creator: str = BOT_USER_ID
    ) -> dict:
        cid = self.new_id("C")
        self.channels[cid] = {
            "id": cid,
            "name": name,
            "name_normalized": name,
            "is_channel": not private,
            "is_group": private,
            "is_im": False,
            "is_mpim": False,
            "is_private": private,
            "is_archived": archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "created": int(time.time()),
            "creator": creator,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "members": set(members),
        }
        self.history[cid] = []
        return self.channels[cid]

    def dm_for(self, uid: str, *, create: bool = True) -> dict | None:
        known = self.channels.get(self._dms.get(uid, ""))
        if known is not None and known["is_im"] and known["user"] == uid:
            return known
        for ch in self.channels.values():
            if ch["is_im"] and ch["user"] == uid:
                self._dms[uid] = ch["id"]
                return ch
        if not create:
            return None
        did = self.new_id("D")
        self.channels[did] = {
            "id": did,
            "created": int(time.time()),
            "is_im": True,
            "is_channel": False,
            "is_group": False,
            "is_mpim": False,
            "is_private": True,
            "is_archived": False,
            "is_org_shared": False,
            "user": uid,
            "is_user_deleted": False,
            "priority": 0,
            "members": {uid, BOT_USER_ID},
        }
        self.history[did] = []
        self._dms[uid] = did
        return self.channels[did]

    def mpim_for(self, uids: list[str], *, create: bool = True) -> dict | None:
        """The multi-person DM of exactly these users and the bot (Slack reuses it for the same people)."""
        wanted = {*uids, BOT_USER_ID}
        for ch in self.channels.values():
            if ch.get("is_mpim") and ch["members"] == wanted:
                return ch
        if not create:
            return None
        gid = self.new_id("G")
        names = sorted(self.users[u]["name"] for u in uids if u in self.users)
        self.channels[gid] = {
            "id": gid,
            "name": "mpdm-" + "--".join(names) + "-1",
            "created": int(time.time()),
            "is_im": False,
            "is_channel": False,
            "is_group": False,
            "is_mpim": True,
            "is_private": True,
            "is_archived": False,
            "is_org_shared": False,
            "members": wanted,
        }
        self.history[gid] = []
        return self.channels[gid]

    def find_channel(self, ref: Any) -> dict:
        """A channel by id, by name (with or without '#'), or a user id (their DM)."""
        if not isinstance(ref, str) or not ref:
            raise SlackError("channel_not_found")
        if ref in self.channels:
            return self.channels[ref]
        if ref[0] in "UW" and ref in self.users:
            if self.users[ref]["deleted"]:
                raise SlackError("account_inactive")
            return self.dm_for(ref)  # type: ignore[return-value]
        name = ref.lstrip("#")
        for ch in self.channels.values():
            if not ch["is_im"] and ch.get("name") == name:
                return ch
        raise SlackError("channel_not_found")

    def visible_channel(self, ref: Any) -> dict:
        """Like find_channel, but private channels the bot is not in do not exist for it."""
        ch = self.find_channel(ref)
        if ch["is_private"] and not ch["is_im"] and BOT_USER_ID not in ch["members"]:
            raise SlackError("channel_not_found")
        return ch

    def public_channel(self, ch: dict) -> dict:
        out = {k: v for k, v in ch.items() if k != "members"}
        if not ch["is_im"]:
            out["is_member"] = BOT_USER_ID in ch["members"]
            out["num_members"] = len(ch["members"])
        return out

    # ------------------------------------------------------------ messages
    def find_message(self, cid: str, ts: Any) -> dict:
        for msg in self.history.get(cid, []):
            if msg["ts"] == ts:
                return msg
        raise SlackError("message_not_found")

    def append_message(self, cid: str, msg: dict) -> dict:
        msg = {"type": "message", "ts": self.new_ts(), "team": self.team_id, **msg}
        thread_ts = msg.get("thread_ts")
        if thread_ts:
            for parent in self.history[cid]:
                if parent["ts"] == thread_ts:
                    parent.setdefault("thread_ts", thread_ts)
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
                    parent.setdefault("reply_users", [])
                    if msg.get("user") not in parent["reply_users"]:
                        parent["reply_users"].append(msg.get("user"))
                    parent["latest_reply"] = msg["ts"]
        self.history[cid].append(msg)
        return msg

    def bot_message(self, text: str, blocks: Any = None, **extra: Any) -> dict:
        msg: dict[str, Any] = {"user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "text": text or ""}
        if blocks:
            msg["blocks"] = blocks
        msg.update({k: v for k, v in extra.items() if v is not None})
        return msg

    def snapshot(self, obj: Any) -> Any:
        return copy.deepcopy(obj)
