"""The aiohttp side of the local Slack: routing, auth, recording, response_url, uploads."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import methods_chat  # noqa: F401  (registers chat/views/files methods)
from .blockkit import check_message
from .methods import METHODS, truthy
from .state import BOT_USER_ID, SlackError, Workspace

logger = logging.getLogger(__name__)
JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata")


@dataclass
class Call:
    """One recorded request. method is the Web API method, or "response_url" / "upload"."""

    method: str
    args: dict
    at: float
    response: dict
    status: int = 200


@dataclass
class Reply:
    """What the server answers; drop=True closes the connection without an answer."""

    body: dict
    status: int = 200
    headers: dict = field(default_factory=dict)
    drop: bool = False


Where = Callable[[Call], bool] | dict | None


def matches(call: Call, method: str | None, where: Where) -> bool:
    if method is not None and call.method != method:
        return False
    if where is None:
        return True
    if isinstance(where, dict):
        return all(call.args.get(k) == v for k, v in where.items())
    return bool(where(call))


class Server:
    """Base of LocalSlack: holds the web.Application and the call log."""

    def __init__(self, ws: Workspace, tokens: Iterable[str] | None) -> None:
        self.ws = ws
        self.tokens = set(tokens) if tokens is not None else None
        self.calls: list[Call] = []
        self.responses: list[Call] = []
        self.base_url: str | None = None  # ".../api/"
        self.root_url: str | None = None  # "http://host:port/"
        self._subscribers: list[Callable[[Call], Any]] = []
        self._cond: asyncio.Condition | None = None
        self._response_urls: dict[str, dict] = {}
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/api/{method}", self._api)
        self.app.router.add_post("/upload/v1/{file_id}", self._upload)
        self.app.router.add_get("/files/{file_id}/{name}", self._download)
        self.app.router.add_post("/respond/{rid}", self._respond)

    # --------------------------------------------------------------- lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.root_url = f"http://{bound_host}:{bound_port}/"
        self.base_url = f"{self.root_url}api/"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Any:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ fault hook
    async def _intercept(self, method: str, args: dict) -> Reply | None:
        """Subclasses (tests' FakeSlack) return a Reply to short-circuit a request."""
        return None

    # ---------------------------------------------------------------- routes
    async def _api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        args, token = await self._read_args(request)
        reply = await self._intercept(name, args) or self._dispatch(name, args, token, self._root(request))
        return await self._answer(request, Call(name, args, time.time(), reply.body, reply.status), reply)

    def _dispatch(self, name: str, args: dict, token: str | None, root: str) -> Reply:
        fn = METHODS.get(name)
        if fn is None:
            return Reply({"ok": False, "error": "unknown_method"})
        if not token:
            return Reply({"ok": False, "error": "not_authed"})
        if (self.tokens is None and not token.startswith("xoxb-")) or (self.tokens and token not in self.tokens):
            return Reply({"ok": False, "error": "invalid_auth"})
        try:
            return Reply({"ok": True, **fn(self.ws, args, root)})
        except SlackError as exc:
            return Reply({"ok": False, "error": exc.code, **exc.extra})
        except Exception as exc:  # a bug in the emulator or absurd args: say so, Slack-style
            logger.exception("local slack: %s failed", name)
            return Reply({"ok": False, "error": "internal_error", "detail": repr(exc)})

    async def _read_args(self, request: web.Request) -> tuple[dict, str | None]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    body = None
                if isinstance(body, dict):
                    args.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                for key, value in (await request.post()).items():
                    args[key] = value if isinstance(value, str) else value.file.read()
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        for key in JSON_ARGS:
            value = args.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(value)
        return args, token

    async def _answer(self, request: web.Request, call: Call, reply: Reply) -> web.StreamResponse:
        if reply.drop:
            call.status = 0
        await self._record(call, response=call.method == "response_url")
        if reply.drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp treats this as a vanished client: nothing is sent
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        fid = request.match_info["file_id"]
        reply = await self._intercept("upload", {"file_id": fid})
        f = self.ws.files.get(fid)
        if reply is None and f is None:
            reply = Reply({"ok": False, "error": "file_not_found"}, status=404)
        if reply is not None:
            call = Call("upload", {"file_id": fid}, time.time(), reply.body, reply.status)
            return await self._answer(request, call, reply)
        if request.content_type == "multipart/form-data":
            data = b""
            async for part in await request.multipart():
                if getattr(part, "filename", None) or part.name in ("file", "filename"):
                    data = await part.read()  # type: ignore[union-attr]
                    break
        else:
            data = await request.read()
        f["content"] = data
        await self._record(Call("upload", {"file_id": fid, "size": len(data)}, time.time(), {"ok": True}))
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        f = self.ws.files.get(request.match_info["file_id"])
        if f is None or f["content"] is None:
            raise web.HTTPNotFound()
        return web.Response(body=f["content"], content_type="application/octet-stream")

    # ----------------------------------------------------------- response_url
    def new_response_url(
        self, *, channel: str | None = None, user: str | None = None, message_ts: str | None = None
    ) -> str:
        """A response_url on this server; posts to it are recorded in .responses and applied."""
        if self.root_url is None:
            raise RuntimeError("start() the LocalSlack (or set root_url) before asking for response URLs")
        rid = secrets.token_hex(8)
        self._response_urls[rid] = {"channel": channel, "user": user, "message_ts": message_ts, "uses": 0}
        return f"{self.root_url}respond/{rid}"

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        rid = request.match_info["rid"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        args = {"rid": rid, **(body if isinstance(body, dict) else {})}
        reply = await self._intercept("response_url", args)
        if reply is None:
            reply = self._apply_response(self._response_urls.get(rid), body)
        return await self._answer(request, Call("response_url", args, time.time(), reply.body, reply.status), reply)

    def _apply_response(self, ctx: dict | None, body: Any) -> Reply:
        if ctx is None:
            return Reply({"ok": False, "error": "expired_url"}, status=404)
        if ctx["uses"] >= 5:  # Slack: a response_url works five times within 30 minutes
            return Reply({"ok": False, "error": "used_url"}, status=404)
        if not isinstance(body, dict):
            return Reply({"ok": False, "error": "invalid_payload"}, status=400)
        try:
            check_message(body)
        except SlackError as exc:  # Slack answers a response_url post it cannot show 400, and shows nothing
            return Reply({"ok": False, "error": exc.code, **exc.extra}, status=400)
        ctx["uses"] += 1
        ws, channel, ts = self.ws, ctx["channel"], ctx["message_ts"]
        original = next((m for m in ws.history.get(channel or "", []) if m["ts"] == ts), None)
        original = original or next((e for e in ws.ephemeral if e["ts"] == ts and ts), None)
        fields = {k: body[k] for k in ("text", "blocks", "attachments") if k in body}
        if truthy(body.get("delete_original")):
            if original is not None:
                (ws.history[channel] if original.get("type") == "message" else ws.ephemeral).remove(original)
        elif truthy(body.get("replace_original")) and original is not None:
            original.update(fields)
        elif body.get("response_type") == "in_channel" and channel in ws.channels:
            ws.append_message(
                channel, ws.bot_message(fields.pop("text", ""), **fields, thread_ts=body.get("thread_ts"))
            )
        else:
            ws.ephemeral.append(
                {
                    "channel": channel,
                    "user": ctx["user"],
                    "ts": ws.new_ts(),
                    "via": "response_url",
                    "text": "",
                    **fields,
                }
            )
        return Reply({"ok": True})

    # -------------------------------------------------------------- recording
    def _root(self, request: web.Request) -> str:
        return self.root_url or f"{request.scheme}://{request.host}/"

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    def on_call(self, callback: Callable[[Call], Any]) -> Callable[[], None]:
        """Call `callback(call)` (sync or async) for every API call and response_url post.

        Returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    async def _record(self, call: Call, *, response: bool = False) -> None:
        (self.responses if response else self.calls).append(call)
        for callback in list(self._subscribers):
            try:
                result = callback(call)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("local slack: on_call subscriber failed")
        async with self._condition():
            self._condition().notify_all()

    def calls_to(self, method: str, where: Where = None) -> list[Call]:
        return [c for c in self.calls if matches(c, method, where)]

    async def wait_for(self, method: str, *, count: int = 1, where: Where = None, timeout: float = 5.0) -> list[Call]:
        """Wait until at least `count` calls to `method` matching `where` were made; return them all."""
        return await self._wait(lambda: self.calls_to(method, where), count, timeout, method, self.calls)

    async def wait_for_response(self, *, count: int = 1, where: Where = None, timeout: float = 5.0) -> list[Call]:
        """Wait until at least `count` posts to response URLs matching `where` arrived."""
        found = lambda: [c for c in self.responses if matches(c, None, where)]  # noqa: E731
        return await self._wait(found, count, timeout, "response_url", self.responses)

    async def _wait(
        self, found: Callable[[], list[Call]], count: int, timeout: float, what: str, seen: list[Call]
    ) -> list[Call]:
        cond = self._condition()
        try:
            async with cond:
                await asyncio.wait_for(cond.wait_for(lambda: len(found()) >= count), timeout)
        except TimeoutError:
            log = "\n".join(f"  {c.method} {c.args!r} -> {c.status} {c.response!r}" for c in seen) or "  (none)"
            raise AssertionError(
                f"expected {count} matching {what} call(s) within {timeout}s, got {len(found())}; seen:\n{log}"
            ) from None
        return found()


__all__ = ["BOT_USER_ID", "Call", "Reply", "Server"]
