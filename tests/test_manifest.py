"""`yakuba manifest`: valid YAML listing every contract command, the events and the scopes."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from bot.cli import main
from handlers import COMMANDS

CONTRACT = {
    "/register",
    "/faq",
    "/archive",
    "/programs",
    "/kenjinkai",
    "/ka",
    "/members",
    "/announce",
    "/approvals",
    "/mydata",
    "/yakuba",
}


def run(*args: str) -> dict:
    result = CliRunner().invoke(main, ["manifest", *args], env={"YAKUBA_LANG": "ja"})
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.output)


def test_http_manifest_lists_every_command_with_urls():
    manifest = run("--url", "https://yakuba.example.jp/")
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == CONTRACT == {c.slash for c in COMMANDS}
    for command in commands.values():
        assert command["url"] == "https://yakuba.example.jp/slack/events"
        assert 0 < len(command["description"]) <= 100
    assert commands["/faq"]["usage_hint"]
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["event_subscriptions"]["request_url"] == "https://yakuba.example.jp/slack/events"
    assert settings["interactivity"]["message_menu_options_url"].endswith("/slack/events")
    assert {"team_join", "user_change", "app_mention", "message.im", "app_home_opened"} <= set(
        settings["event_subscriptions"]["bot_events"]
    )
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read", "channels:manage"} <= scopes
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000


def test_socket_manifest_has_no_request_urls():
    manifest = run("--socket")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert all("url" not in c for c in manifest["features"]["slash_commands"])
