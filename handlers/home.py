"""App Home: app_home_opened → views.publish (bolt acks the event first); the FAQ search and the introductions'
join/pause toggle and preference from the tab (the tab is redrawn after each)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import home as ids
from bot.blocks import intro as intro_ids
from bot.blocks.approvals import when
from bot.blocks.directory import summary
from bot.blocks.home import HomeData, faq_modal, faq_results, home_view
from bot.slack.context import Deps, deps_of
from bot.slack.permissions import is_organizer
from storage import approvals, directory, faqs, intro, members, prefectures, programs, sections
from storage.faq_feedback import log_unanswered
from storage.members import Profile

log = logging.getLogger(__name__)


async def today(deps: Deps, team_id: str) -> list[tuple[str, str]]:
    """Today's 庁内放送 from the programmes feature."""
    tz = deps.settings.tz
    day = deps.clock().astimezone(tz).date()
    return [
        (o.start.astimezone(tz).strftime("%H:%M"), o.programme.title)
        for o in await programs.lineup(db=deps.db, team_id=team_id, day=day, tz=tz)
    ]


async def gather(deps: Deps, *, team_id: str, user_id: str) -> HomeData:
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    community = deps.community
    data = HomeData(
        community=deps.community_name, member=member, features=community.features, built_in=community.is_built_in
    )
    if member is not None and member.pref_code and member.status == "approved":
        channel = await prefectures.channel_for(deps.db, team_id=team_id, pref_code=member.pref_code)
        data.channel_id = channel.channel_id if channel else None
    data.sections = await sections.of_member(deps.db, team_id=team_id, user_id=user_id)
    data.today = await today(deps, team_id) if community.features.programs else []
    data.intro = await intro.optin(deps.db, team_id=team_id, user_id=user_id)
    if await is_organizer(deps, user_id):
        data.organizer = True
        rows = await approvals.pending(deps.db, team_id=team_id, limit=500)
        data.pending_total = len(rows)
        data.pending = [
            (r.user_id, Profile.of(m), when(r.submitted_at, deps.settings.tz)) for r, m in rows[: ids.MAX_PENDING]
        ]
        figures = await directory.stats(deps.db, team_id=team_id, now=deps.clock(), tz=deps.settings.tz, months=1)
        data.stats_summary = summary(deps.texts, figures, community)
    return data


async def publish(deps: Deps, *, team_id: str, user_id: str) -> None:
    view = home_view(deps.texts, await gather(deps, team_id=team_id, user_id=user_id))
    try:
        await deps.client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.warning("home tab not published: %s", exc.response.get("error"))


async def on_app_home_opened(event: dict, context: AsyncBoltContext) -> None:
    if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
        return
    deps = deps_of(context)
    await publish(deps, team_id=context.team_id or deps.team_id, user_id=event["user"])


async def on_faq_search(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=faq_modal(deps_of(context).texts))
    except SlackApiError as exc:
        log.warning("FAQ search form not opened: %s", exc.response.get("error"))


async def on_faq_submit(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    values = ((view.get("state") or {}).get("values")) or {}
    query = (((values.get(ids.FAQ_BLOCK) or {}).get(ids.FAQ_INPUT) or {}).get("value") or "").strip()[:200]
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    team_id = context.team_id or team.get("id") or deps.team_id
    found = await faqs.search(db=deps.db, team_id=team_id, query=query, limit=5) if query else []
    hits: list[tuple[str, str, str | None, str | None]] = [
        (h.faq.question, h.faq.answer, h.faq.source, h.faq.updated_on.isoformat() if h.faq.updated_on else None)
        for h in found
    ]
    if query and not hits:
        await log_unanswered(db=deps.db, team_id=team_id, question=query)
    await ack(response_action="update", view=faq_results(deps.texts, query=query, hits=hits))


async def on_intro_toggle(ack: AsyncAck, body: dict, context: AsyncBoltContext) -> None:
    """Join or pause introductions from the tab (only approved members still here may join), then redraw it."""
    await ack()
    deps = deps_of(context)
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    team_id, user_id = context.team_id or team.get("id") or deps.team_id, body["user"]["id"]
    action = (body.get("actions") or [{}])[0]
    joining = action.get("action_id") == intro_ids.HOME_JOIN
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if not joining or (member is not None and member.status == "approved" and member.left_at is None):
        await intro.set_optin(deps.db, team_id=team_id, user_id=user_id, active=joining)
    await publish(deps, team_id=team_id, user_id=user_id)


async def on_intro_preference(ack: AsyncAck, body: dict, context: AsyncBoltContext) -> None:
    await ack()
    deps = deps_of(context)
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    team_id, user_id = context.team_id or team.get("id") or deps.team_id, body["user"]["id"]
    action = (body.get("actions") or [{}])[0]
    chosen = str(((action.get("selected_option") or {}).get("value")) or "")
    if chosen in intro.PREFERENCES:
        await intro.set_optin(deps.db, team_id=team_id, user_id=user_id, preference=chosen)
    await publish(deps, team_id=team_id, user_id=user_id)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_app_home_opened)
    app.action(ids.FAQ_SEARCH)(on_faq_search)
    app.view(ids.FAQ_VIEW)(on_faq_submit)
    app.action(intro_ids.HOME_JOIN)(on_intro_toggle)
    app.action(intro_ids.HOME_PAUSE)(on_intro_toggle)
    app.action(intro_ids.HOME_PREFERENCE)(on_intro_preference)
