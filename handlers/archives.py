"""/archive: recent meeting archives or a search; organisers add one and may announce it in 庁内放送 (once)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.blocks.archives import CALLBACK, announce_message, archive_modal, done_view, list_message, read_form
from bot.slack.commands import answered_in_time
from bot.slack.context import deps_of
from bot.slack.permissions import is_organizer
from bot.slack.slash import SlashCommand
from storage import archives, outbox

# /archive: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand(
    "archive", opens_form=frozenset({"add"}), organisers={"add": "archives.admin.not_allowed"}, staff=("",)
)

log = logging.getLogger(__name__)


async def on_archive(ack: AsyncAck, command: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team = deps.texts, context.team_id or deps.team_id
    query = " ".join(str(command.get("text") or "").split())
    if query.lower() == "add":
        await ack()
        try:
            await deps.client.views_open(trigger_id=str(command.get("trigger_id") or ""), view=archive_modal(texts))
        except SlackApiError as exc:
            log.warning("archive form not opened: %s", exc.response.get("error"))
        return
    if not query:
        found = await archives.list_recent(db=deps.db, team_id=team, limit=10)
        await ack(response_type="ephemeral", **list_message(texts, found))
        return
    hits = await archives.search(db=deps.db, team_id=team, query=query, limit=5)
    # Equally good matches (every meeting of a series matches its name) are shown newest first.
    hits.sort(key=lambda h: (-round(h.score, 2), -(h.archive.held_on.toordinal() if h.archive.held_on else 0)))
    await ack(response_type="ephemeral", **list_message(texts, [h.archive for h in hits], query=query))


async def on_save(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team = deps.texts, context.team_id or deps.team_id
    user = (body.get("user") or {}).get("id", "")
    if not await is_organizer(deps, user):  # a forged submission saves nothing
        await ack(response_action="errors", errors={"series": texts("archives.admin.not_allowed")})
        return
    fields, announce, errors = read_form(texts, (view.get("state") or {}).get("values") or {})
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    saved, outcome = await archives.upsert(db=deps.db, team_id=team, **fields)
    lines = [
        texts(
            "archives.form.saved",
            outcome=texts(f"archives.form.outcome.{outcome}"),
            series=saved.series,
            number=saved.number,
        )
    ]
    channel = deps.settings.yakuba_broadcast_channel
    if announce and channel:
        # Keyed by the archive: saving it again with the box ticked does not announce twice.
        async with deps.db.write() as session:
            await outbox.enqueue(
                session,
                team_id=team,
                key=f"archive-announce:{saved.id}",
                kind="post",
                target=channel,
                payload=announce_message(texts, saved),
                now=deps.clock(),
            )
        deps.outbox.kick()
        lines.append(texts("archives.form.announced"))
    elif announce:
        lines.append(texts("archives.form.no_broadcast"))
    await ack(response_action="update", view=done_view(texts, "\n".join(lines)))


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_archive, COMMAND))
    app.view(CALLBACK)(on_save)
