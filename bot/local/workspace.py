"""A local workspace: the real bolt app on an in-process LocalSlack, driven by signed requests.

`yakuba console` and `yakuba demo` both stand on this; nothing here is a second code path: every
command, click and form goes through bolt's signature check, middleware and the feature handlers.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import Yakuba, create_app
from bot.config import Settings
from bot.local import render
from bot.local import requests as req
from bot.local.slack import TEAM_ID, Call, LocalSlack
from storage import data, faq_io, local_slack, migrate, program_io, section_io
from storage.db import Database

EXAMPLES = Path(data.__file__).parent  # storage/data/*.example.yaml
ORGANIZER = "unei"  # the local organiser's user name, found again after a restart

SHOWN_METHODS = {
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "views.open",
    "views.push",
    "views.update",
    "views.publish",
    "response_url",
    "conversations.invite",
    "conversations.kick",
    "conversations.create",
    "files.completeUploadExternal",
}


@dataclass
class Clickable:
    element: dict[str, Any]
    channel: str | None = None
    message: dict[str, Any] | None = None
    view: dict[str, Any] | None = None


@dataclass
class LocalWorkspace:
    slack: LocalSlack
    yakuba: Yakuba
    secret: str
    organizer: str
    general: str
    me: str = ""
    printer: Callable[[str | Text], None] = print
    clickables: list[Clickable] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> the modal on top
    persist: bool = False
    restored: bool = False  # the workspace came back from the database (not a first start)
    _feed: list[Call] = field(default_factory=list)
    _saved: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) -> JSON last stored

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        lang: str | None = None,
        database_url: str | None = None,
        printer: Callable[[str | Text], None] = print,
        persist: bool = False,
    ) -> LocalWorkspace:
        """A workspace on a fresh emulator; with persist, its users and channels are kept in the database."""
        url = database_url or settings.database_url
        slack = LocalSlack()
        await slack.start()
        stored = await _stored(url) if persist else {}
        if stored.get("user"):
            slack.restore_state(stored)
        organizer = _user_named(slack, ORGANIZER) or slack.add_user(ORGANIZER, "運営 花子", admin=True)["id"]
        admin = _channel_named(slack, "yakuba-admin") or slack.add_channel("yakuba-admin", members=[organizer])["id"]
        broadcast = _channel_named(slack, "chonai-hoso") or slack.add_channel("chonai-hoso", members=[organizer])["id"]
        general = _channel_named(slack, "general") or slack.add_channel("general", members=[organizer])["id"]
        secret = secrets.token_hex(16)
        local = settings.model_copy(
            update={
                "slack_bot_token": "xoxb-local",
                "slack_signing_secret": secret,
                "slack_api_url": slack.base_url,
                "yakuba_organizers": organizer,
                "yakuba_admin_channel": admin,
                "yakuba_broadcast_channel": broadcast,
                "yakuba_lang": lang or settings.yakuba_lang,
                "database_url": url,
                # No network here: the JMA watcher is off (`yakuba disaster replay` still shows a check-in).
                "yakuba_jma_feed_url": "",
            }
        )
        # Listeners finish before dispatch returns, so each step's output can be shown in order.
        yakuba = create_app(local, process_before_response=True)
        await yakuba.start(schedule=False)
        ws = cls(
            slack=slack,
            yakuba=yakuba,
            secret=secret,
            organizer=organizer,
            general=general,
            me=organizer,
            printer=printer,
            persist=persist,
            restored=bool(stored.get("user")),
        )
        slack.on_call(ws._feed.append)
        await ws.save()
        return ws

    async def save(self) -> int:
        """Store the users and channels that changed since the last save (nothing unless persist)."""
        if not self.persist:
            return 0
        changed: dict[str, dict[str, dict[str, Any]]] = {}
        for kind, objects in self.slack.export_state().items():
            for object_id, obj in objects.items():
                text = json.dumps(obj, sort_keys=True, ensure_ascii=False)
                if self._saved.get((kind, object_id)) != text:
                    changed.setdefault(kind, {})[object_id] = obj
                    self._saved[(kind, object_id)] = text
        if not changed:
            return 0
        return await local_slack.save(self.yakuba.deps.db, team_id=self.slack.team_id, changed=changed)

    async def load_examples(self) -> tuple[dict[str, int], int]:
        """Import the shipped example programmes, sections and FAQs: ({kind: entries}, entries refused)."""
        deps, team = self.yakuba.deps, self.yakuba.deps.team_id
        programs = await program_io.import_programs(db=deps.db, team_id=team, source=EXAMPLES / "programs.example.yaml")
        by_name = {c["name"]: c["id"] for c in self.slack.ws.channels.values() if not c["is_im"]}
        sections = await section_io.import_sections(
            db=deps.db, team_id=team, path=EXAMPLES / "sections.example.yaml", resolve_channel=by_name.get
        )
        faqs = await faq_io.import_faqs(db=deps.db, team_id=team, path=EXAMPLES / "faqs.example.yaml")
        counts = {
            "programs": len(programs.created) + len(programs.updated) + len(programs.unchanged),
            "sections": len(sections.created) + len(sections.updated) + len(sections.unchanged),
            "faqs": faqs.created + faqs.updated + faqs.unchanged,
        }
        refused = len(programs.errors) + len(sections.errors) + len(faqs.errors)
        refused += (programs.file_error is not None) + (sections.file_error is not None)
        return counts, refused

    async def close(self) -> None:
        await self.save()
        await self.yakuba.close()
        await self.slack.stop()

    @property
    def texts(self):
        return self.yakuba.deps.texts

    def name(self, user_id: str) -> str:
        try:
            user = self.slack.user(user_id)
        except Exception:  # noqa: BLE001 - unknown ids render as themselves
            return user_id
        return user.get("real_name") or user.get("name") or user_id

    def names(self) -> dict[str, str]:
        out = {u["id"]: u.get("real_name") or u["name"] for u in self.slack.ws.users.values()}
        out |= {c["id"]: c["name"] for c in self.slack.ws.channels.values() if not c.get("is_im")}
        return out

    # ------------------------------------------------------------------- actions
    async def dispatch(self, body: bytes) -> dict[str, Any] | None:
        request = AsyncBoltRequest(body=body.decode(), headers=req.sign(body, self.secret))
        response = await self.yakuba.bolt.async_dispatch(request)
        await self.yakuba.deps.drain()
        await self.save()
        if response.status >= 400:
            self.printer("  " + self.texts("console.http_error", status=response.status))
        try:
            return json.loads(response.body) if response.body else None
        except ValueError:
            return None

    async def join(self, name: str, real_name: str) -> str:
        """A new person joins the workspace (Slack sends team_join); you become them."""
        user = self.slack.add_user(name, real_name)
        self.slack.add_members(self.general, user["id"])
        self.me = user["id"]
        await self.dispatch(req.event_body(req.team_join_event(user)))
        self.show()
        return user["id"]

    async def command(self, command: str, text: str = "", *, channel: str | None = None) -> None:
        channel = channel or self.general
        url = self.slack.new_response_url(channel=channel, user=self.me)
        body = req.command_body(command, text, user_id=self.me, channel_id=channel, response_url=url)
        answer = await self.dispatch(body)
        self.show(ack=answer)

    async def event(self, event: dict[str, Any]) -> None:
        await self.dispatch(req.event_body(event))
        self.show()

    async def click(self, number: int, *, option: dict | None = None) -> None:
        """Press the numbered button (or choose `option` in the numbered menu) shown last."""
        if not 1 <= number <= len(self.clickables):
            self.printer(f"  ({number}? {len(self.clickables)} buttons shown)")
            return
        target = self.clickables[number - 1]
        el = target.element
        if target.view is not None:
            body = req.block_actions_body(
                user_id=self.me,
                action_id=el["action_id"],
                value=el.get("value"),
                selected_option=option,
                view=target.view,
            )
        else:
            url = self.slack.new_response_url(
                channel=target.channel, user=self.me, message_ts=(target.message or {}).get("ts")
            )
            body = req.block_actions_body(
                user_id=self.me,
                action_id=el["action_id"],
                value=el.get("value"),
                selected_option=option,
                channel_id=target.channel,
                message=target.message,
                response_url=url,
            )
        await self.dispatch(body)
        self.show()

    async def act_in_view(
        self, block: dict[str, Any], value: dict[str, Any], values: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A choice in an input with dispatch_action, sent at once as Slack does; returns my modal after it.

        The modal's update (views.update) is taken in quietly: the person is still filling it in.
        """
        view = self.views.get(self.me)
        if view is None:
            return None
        element = block.get("element") or {}
        body = req.block_actions_body(
            user_id=self.me,
            action_id=element.get("action_id", ""),
            block_id=block.get("block_id"),
            selected_option=value.get("selected_option"),
            action_type=element.get("type"),
            view={**view, "state": {"values": values}},
        )
        request = AsyncBoltRequest(body=body.decode(), headers=req.sign(body, self.secret))
        await self.yakuba.bolt.async_dispatch(request)
        await self.yakuba.deps.drain()
        for call in list(self._feed):
            updated = (call.response or {}).get("view") or {}
            if call.method == "views.update" and call.status == 200 and updated.get("id") == view.get("id"):
                self.views[self.me] = updated
                self._feed.remove(call)
        self.show()
        return self.views.get(self.me)

    async def click_action(self, action_id: str, *, value: str | None = None) -> None:
        """Press the newest shown button with this action_id (and value, when given)."""
        for number in range(len(self.clickables), 0, -1):
            el = self.clickables[number - 1].element
            if el.get("action_id") == action_id and (value is None or el.get("value") == value):
                await self.click(number)
                return
        raise LookupError(f"no button {action_id} on screen")

    async def submit(self, values: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        """Submit my open modal with {block_id: {action_id: value}}; returns the ack (errors) if any."""
        view = self.views.get(self.me)
        if view is None:
            raise LookupError("no open modal")
        body = req.view_submission_body(user_id=self.me, view=view, values=req.state_values(values))
        answer = await self.dispatch(body)
        self.after_submit(answer)
        return answer

    def after_submit(self, answer: dict[str, Any] | None) -> None:
        """Apply a view_submission's response_action as Slack would: errors stay, push/update replace, else close."""
        action = (answer or {}).get("response_action")
        if action in ("push", "update") and isinstance(answer.get("view"), dict):
            view = {"id": f"V{secrets.token_hex(5).upper()}", **answer["view"]}
            self.views[self.me] = view
            self._show_view(view, self.names())
            self.show()
            return
        if action != "errors":
            self.views.pop(self.me, None)
        self.show(ack=answer)

    def narrate(self, key: str, **params: object) -> None:
        """A line of the demo's story, from the text catalogue."""
        self.printer("")
        self.printer(Text.assemble("▶ ", render.styled(self.texts(key, **params))))

    def discard(self) -> None:
        """Forget output not worth printing (e.g. 47 channel creations)."""
        self._feed.clear()

    async def suggest(
        self, action_id: str, value: str, *, values: dict[str, Any] | None = None, block_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Ask for the options of an external_select in my open modal, as typing in it does.

        `values` is the form filled so far in Slack's view.state.values shape: Slack sends it with the
        request, and the options may depend on it (the municipalities of the prefecture chosen above).
        """
        view = self.views.get(self.me)
        if view is not None and values is not None:
            view = {**view, "state": {"values": values}}
        body = req.block_suggestion_body(
            user_id=self.me, action_id=action_id, value=value, view=view, block_id=block_id
        )
        answer = await self.dispatch(body) or {}
        return answer.get("options") or [o for g in answer.get("option_groups", []) for o in g.get("options", [])]

    # -------------------------------------------------------------------- output
    def show(self, *, ack: dict[str, Any] | None = None) -> None:
        """Print what the bot did since the last step, numbering every button and menu."""
        names = self.names()
        if ack and ack.get("response_action") == "errors":
            labels = _labels(self.views.get(self.me))
            for block, error in ack.get("errors", {}).items():
                self.printer(f"  ⚠ {labels.get(block, block)}: {error}")
        elif ack and (ack.get("text") or ack.get("blocks")):
            title = self.texts("console.only_you", name=self.name(self.me))
            self._print(title, render.message(ack, names, self._buttons(None), texts=self.texts))
        feed, self._feed[:] = list(self._feed), []
        shown = [c for c in feed if c.method in SHOWN_METHODS and c.status == 200 and c.response.get("ok", True)]
        # The outbox's worker sends while the handler still acts, so the two interleave differently from run to
        # run: show what changed (channels, the actor's reply, then edits) before what was newly posted, each in order.
        shown.sort(key=_stage)
        index = 0
        while index < len(shown):
            # The same post to many places (a broadcast, reminders) is printed once; workers send it in any
            # order, so the places are sorted to print the same transcript every time.
            run = [shown[index]]
            while (
                index + len(run) < len(shown)
                and run[0].method == shown[index + len(run)].method == "chat.postMessage"
                and run[0].args.get("text") == shown[index + len(run)].args.get("text")
            ):
                run.append(shown[index + len(run)])
            index += len(run)
            if len(run) > 1:
                run.sort(key=lambda c: self._where(_channel_of(c), None))
            self._show_call(run[0], names)
            if len(run) > 1:
                places = [self._where(_channel_of(c), None).removeprefix("→ ") for c in run[1:]]
                more = self.texts("console.file.more", count=len(places) - 5) if len(places) > 5 else ""
                self.printer(
                    "  · "
                    + self.texts("console.also", count=len(places), places=", ".join(places[:5]))
                    + (f" {more}" if more else "")
                )

    def _buttons(self, target: Clickable | None) -> list[dict]:
        return _Collector(self.clickables, target or Clickable(element={}))

    def _show_call(self, call: Call, names: dict[str, str]) -> None:
        args, res = call.args, call.response
        texts = self.texts
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            channel = res.get("channel") or args.get("channel")
            message = res.get("message") or {**args, "ts": res.get("ts") or args.get("ts")}
            if call.method == "chat.postEphemeral":
                title = texts("console.only_you", name=self.name(args.get("user", "")))
            else:
                title = self._where(channel, None)
                if call.method == "chat.update":
                    title = texts("console.updated", where=title)
            target = Clickable(element={}, channel=channel, message=message)
            self._print(title, render.message(args, names, self._buttons(target), texts=texts))
        elif call.method == "response_url":
            target = Clickable(element={}, channel=None, message=None)
            self._print(texts("console.reply"), render.message(args, names, self._buttons(target), texts=texts))
        elif call.method in ("views.open", "views.push", "views.update"):
            view = res.get("view") or {}
            user = self._view_user(view)
            if view.get("type") == "modal":
                self.views[user or self.me] = view
            self._show_view(view, names)
        elif call.method == "views.publish":
            view = res.get("view") or {}
            self._print(
                texts("console.home", name=self.name(args.get("user_id", ""))),
                render.blocks(view.get("blocks"), names, self._buttons(Clickable(element={}, view=view)), texts=texts),
            )
        elif call.method in ("conversations.invite", "conversations.kick", "conversations.create"):
            channel = (res.get("channel") or {}).get("name") or names.get(args.get("channel", ""), "")
            people = str(args.get("users") or args.get("user") or "").split(",")
            who = ", ".join("@" + self.name(u) for u in people if u)
            key = {"conversations.invite": "invited", "conversations.kick": "removed"}.get(call.method, "created")
            self.printer("  · " + texts(f"console.{key}", channel=channel, people=who))
        elif call.method == "files.completeUploadExternal":
            channel = args.get("channel_id") or str(args.get("channels") or "").split(",")[0]
            comment = render.message({"text": args.get("initial_comment") or ""}, names)
            shared = []
            for entry in args.get("files") or []:
                stored = self.slack.ws.files.get(entry.get("id")) or {}
                content = stored.get("content")
                name = str(stored.get("name") or entry.get("title") or "")
                shared += render.file_lines(name, content, names, tz=self.yakuba.deps.settings.tz, texts=texts)
            self._print(self._where(channel, None), [*comment, *shared])

    def _show_view(self, view: dict[str, Any], names: dict[str, str]) -> None:
        title = render.mrkdwn(str((view.get("title") or {}).get("text", "")))
        self._print(
            self.texts("console.form", title=title),
            render.blocks(view.get("blocks"), names, self._buttons(Clickable(element={}, view=view)), texts=self.texts),
        )

    def _view_user(self, view: dict[str, Any]) -> str | None:
        for user, stack in self.slack.ws.stacks.items():
            if view.get("id") in stack:
                return user
        return None

    def _where(self, channel: str | None, ephemeral_user: str | None) -> str:
        if channel and channel.startswith("D"):
            owner = (self.slack.ws.channels.get(channel) or {}).get("user")
            return f"→ DM @{self.name(owner or '')}"
        name = self.names().get(channel or "", channel or "?")
        return f"→ #{name}" + (f" (@{self.name(ephemeral_user)})" if ephemeral_user else "")

    def _print(self, title: str, lines: list[Text]) -> None:
        self.printer(Text(f"yakuba {title}", style="bold"))
        for line in lines:
            self.printer(Text.assemble("  │ ", line))


def _stage(call: Call) -> int:
    """Channels first, then the reply to whoever acted, then edits, then new posts (each kept in its order)."""
    if call.method.startswith("conversations."):
        return 0
    if call.method in ("response_url", "chat.postEphemeral"):
        return 1
    return 3 if call.method in ("chat.postMessage", "files.completeUploadExternal") else 2


def _channel_of(call: Call) -> str | None:
    channel = call.response.get("channel") or call.args.get("channel")
    return channel if isinstance(channel, str) else None


def _labels(view: dict[str, Any] | None) -> dict[str, str]:
    """Input blocks' labels by block_id, so a form error names its field as the member sees it."""
    return {
        block["block_id"]: render.mrkdwn(str((block.get("label") or {}).get("text", "")))
        for block in (view or {}).get("blocks") or []
        if block.get("type") == "input" and block.get("block_id")
    }


async def _stored(url: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The workspace kept in this database, read before the app starts (its settings need the ids)."""
    db = Database(url)
    try:
        await migrate.upgrade(db)
        return await local_slack.load(db, team_id=TEAM_ID)
    finally:
        await db.dispose()


def _user_named(slack: LocalSlack, name: str) -> str | None:
    return next((u["id"] for u in slack.ws.users.values() if u["name"] == name and not u["deleted"]), None)


def _channel_named(slack: LocalSlack, name: str) -> str | None:
    found = [c for c in slack.ws.channels.values() if not c["is_im"] and c.get("name") == name]
    return found[0]["id"] if found else None


class _Collector(list):
    """A list that records each interactive element it is given together with where it was shown."""

    def __init__(self, sink: list[Clickable], where: Clickable) -> None:
        super().__init__(sink)
        self._sink, self._where = sink, where

    def append(self, element: dict) -> None:
        self._sink.append(
            Clickable(element=element, channel=self._where.channel, message=self._where.message, view=self._where.view)
        )
        super().append(element)
