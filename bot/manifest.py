"""`yakuba manifest`: the Slack app manifest (YAML) with every slash command, event, scope and surface."""

from __future__ import annotations

from typing import Any

import yaml

from bot.texts import Texts
from handlers import COMMANDS
from storage.community import CommunityProfile, shipped

BOT_EVENTS = ["team_join", "user_change", "app_mention", "message.im", "app_home_opened", "member_left_channel"]

# The minimum the features need: read users and channels, manage the 47 prefecture channels and 課
# channels (create, join, invite, kick), post and DM, answer mentions and DMs, upload the members map.
BOT_SCOPES = [
    "app_mentions:read",
    "channels:join",
    "channels:history",  # announcements: after a crash, look for our own post before sending again
    "channels:manage",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "groups:write",
    "im:history",
    "im:read",
    "im:write",
    "mpim:history",  # introductions: a retried group DM looks for its earlier post
    "mpim:write",  # introductions: one group DM per pair or trio (conversations.open with several users)
    "team:read",
    "users:read",
]


def manifest(
    texts: Texts,
    *,
    url: str | None = None,
    socket: bool = False,
    name: str = "yakuba",
    community: CommunityProfile | None = None,
) -> dict[str, Any]:
    """The manifest for this community: commands of the features its profile switches off are left out; a
    profile other than the built-in オンライン市役所 one is described by its own name in neutral words."""
    events_url = f"{url.rstrip('/')}/slack/events" if url else None
    community = community or shipped()
    features, built_in = community.features, community.is_built_in
    commands = []
    for command in COMMANDS:
        if command.is_off(features):
            continue
        # A shared command that loses a verb (`/members map`) says so in its own catalogue lines.
        entry: dict[str, Any] = {
            "command": command.slash,
            "description": texts(command.summary_key(features, built_in=built_in)).replace("`", "")[:100],
            "should_escape": False,
        }
        hint = texts(command.hint_key(features))
        if hint:
            entry["usage_hint"] = hint[:100]
        if events_url and not socket:
            entry["url"] = events_url
        commands.append(entry)
    interactivity: dict[str, Any] = {"is_enabled": True}
    event_subscriptions: dict[str, Any] = {"bot_events": BOT_EVENTS}
    if events_url and not socket:
        interactivity |= {"request_url": events_url, "message_menu_options_url": events_url}
        event_subscriptions["request_url"] = events_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": (
                texts("manifest.description")
                if built_in
                else texts("manifest.description_neutral", community=community.name)
            )[:140],
            "long_description": (
                texts("manifest.long_description")
                if built_in
                else texts("manifest.long_description_neutral", community=community.name)
            )[:4000],
            "background_color": "#1d4e89",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(
    texts: Texts, *, url: str | None = None, socket: bool = False, community: CommunityProfile | None = None
) -> str:
    return yaml.safe_dump(
        manifest(texts, url=url, socket=socket, community=community), allow_unicode=True, sort_keys=False
    )
