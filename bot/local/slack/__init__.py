"""An in-process emulator of the Slack Web API: a local workspace for `yakuba console`/`demo` and tests.

async with LocalSlack() as slack:
    alice = slack.add_user("alice", "Alice")
    client = AsyncWebClient(token="xoxb-local", base_url=slack.base_url)
    await client.chat_postMessage(channel=alice["id"], text="hi")
    assert slack.dm_messages(alice["id"])[0]["text"] == "hi"
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .server import Call, Reply, Server
from .state import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, SlackError, Workspace

__all__ = ["APP_ID", "BOT_ID", "BOT_USER_ID", "TEAM_ID", "Call", "LocalSlack", "Reply", "SlackError", "Workspace"]


class LocalSlack(Server):
    """An in-memory Slack workspace behind a real HTTP server (see module docstring)."""

    team_id = TEAM_ID
    bot_user_id = BOT_USER_ID
    bot_id = BOT_ID
    app_id = APP_ID

    def __init__(self, *, tokens: Iterable[str] | None = None, team_name: str = "Yakuba Local") -> None:
        """tokens: the accepted bot tokens; None accepts any token starting with 'xoxb-'."""
        super().__init__(Workspace(team_name=team_name), tokens)

    # ------------------------------------------------------------- scripting
    def add_user(
        self,
        name: str,
        real_name: str | None = None,
        *,
        admin: bool = False,
        owner: bool = False,
        deleted: bool = False,
        email: str | None = None,
        display_name: str | None = None,
    ) -> dict:
        flags: dict[str, Any] = {"is_admin": admin or owner, "is_owner": owner, "deleted": deleted}
        if email:
            flags["email"] = email
        if display_name:
            flags["display_name"] = display_name
        return self.ws.snapshot(self.ws.add_user(name, real_name, **flags))

    def set_deleted(self, user_id: str, deleted: bool = True) -> None:
        self.ws.user(user_id)["deleted"] = deleted

    def add_channel(
        self,
        name: str,
        *,
        private: bool = False,
        archived: bool = False,
        members: Iterable[str] = (),
        bot_member: bool = True,
    ) -> dict:
        """A channel; the bot is a member unless bot_member=False (to provoke not_in_channel)."""
        ch = self.ws.add_channel(
            name, private=private, archived=archived, members=[*members, *([BOT_USER_ID] if bot_member else [])]
        )
        return self.channel(ch["id"])

    def add_members(self, channel: str, *user_ids: str) -> None:
        self.ws.find_channel(channel)["members"].update(user_ids)

    def remove_members(self, channel: str, *user_ids: str) -> None:
        self.ws.find_channel(channel)["members"].difference_update(user_ids)

    def archive(self, channel: str, archived: bool = True) -> None:
        self.ws.find_channel(channel)["is_archived"] = archived

    def export_state(self) -> dict[str, dict[str, dict]]:
        """Users and channels as data to store (see Workspace.export)."""
        return self.ws.export()

    def restore_state(self, objects: dict[str, dict[str, dict]]) -> None:
        self.ws.restore(objects)

    # ------------------------------------------------------------- inspection
    def user(self, user_id: str) -> dict:
        return self.ws.snapshot(self.ws.user(user_id))

    def channel(self, ref: str) -> dict:
        """A channel by id or name, with a sorted 'members' list."""
        ch = self.ws.find_channel(ref)
        return {**self.ws.public_channel(ch), "members": sorted(ch["members"])}

    def dm_channel(self, user_id: str) -> str:
        dm = self.ws.dm_for(self.ws.user(user_id)["id"])
        assert dm is not None
        return dm["id"]

    def messages(self, channel: str) -> list[dict]:
        """All messages (thread replies included) of a channel, DM id, name, or user id, oldest first."""
        ch = self.ws.find_channel(channel)
        return self.ws.snapshot(self.ws.history[ch["id"]])

    def dm_messages(self, user_id: str) -> list[dict]:
        dm = self.ws.dm_for(user_id, create=False)
        return self.ws.snapshot(self.ws.history[dm["id"]]) if dm else []

    def group_dms(self) -> dict[tuple[str, ...], list[dict]]:
        """Every multi-person DM: its people (the bot left out, sorted) → its messages, oldest first."""
        return {
            tuple(sorted(u for u in ch["members"] if u != BOT_USER_ID)): self.ws.snapshot(self.ws.history[ch["id"]])
            for ch in self.ws.channels.values()
            if ch.get("is_mpim")
        }

    def ephemerals(self, user_id: str | None = None, channel: str | None = None) -> list[dict]:
        """Ephemeral messages (chat.postEphemeral and response_url replies), oldest first."""
        return self.ws.snapshot(
            [e for e in self.ws.ephemeral if user_id in (None, e["user"]) and channel in (None, e["channel"])]
        )

    def views_for(self, user_id: str) -> list[dict]:
        """Every modal opened or pushed for the user (current content), oldest first."""
        return self.ws.snapshot([v["view"] for v in self.ws.views.values() if v["user"] == user_id])

    def open_views(self, user_id: str) -> list[dict]:
        """The user's modal stack, root first."""
        return self.ws.snapshot([self.ws.views[vid]["view"] for vid in self.ws.stacks.get(user_id, [])])

    def close_views(self, user_id: str, *, all_views: bool = True) -> None:
        stack = self.ws.stacks.get(user_id, [])
        del stack[0 if all_views else -1 :]

    def view(self, view_id: str) -> dict | None:
        entry = self.ws.views.get(view_id)
        return self.ws.snapshot(entry["view"]) if entry else None

    def home_view(self, user_id: str) -> dict | None:
        view = self.ws.home.get(user_id)
        return self.ws.snapshot(view) if view else None

    def file(self, file_id: str) -> dict:
        """A stored file's record, including its bytes under 'content'."""
        return self.ws.snapshot(self.ws.files[file_id])

    def files(self) -> list[dict]:
        return self.ws.snapshot(list(self.ws.files.values()))

    def clear_calls(self) -> None:
        self.calls.clear()
        self.responses.clear()
