"""`yakuba manifest`: valid YAML listing every contract command, the events and the scopes."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.texts import Texts
from handlers import COMMANDS

CONTRACT = {
    "/register",
    "/faq",
    "/archive",
    "/programs",
    "/events",
    "/kenjinkai",
    "/ka",
    "/intro",
    "/members",
    "/announce",
    "/approvals",
    "/mydata",
    "/yakuba",
}


# The verbs only organisers may use (the handlers refuse them to members).
ORGANIZER_VERBS = {
    "faq": {"add", "edit", "auto"},
    "archive": {"add"},
    "programs": {"add", "edit", "pause", "resume"},
    "members": {"export"},
    "yakuba": {"setup", "lead", "prefectures"},
}


def run(*args: str, lang: str = "ja") -> dict:
    result = CliRunner().invoke(main, ["manifest", *args], env={"YAKUBA_LANG": lang})
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
    assert commands["/events"]["usage_hint"] == "[add|edit KEY|mine]"
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


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_usage_hints_show_members_only_their_verbs(lang):
    commands = {c["command"].lstrip("/"): c for c in run("--socket", lang=lang)["features"]["slash_commands"]}
    for command, verbs in ORGANIZER_VERBS.items():
        words = set(commands[command].get("usage_hint", "").strip("[]").replace("|", " ").split())
        assert not words & verbs, (command, words & verbs)
    assert "today" in commands["programs"]["usage_hint"] and "map" in commands["members"]["usage_hint"]


@pytest.mark.parametrize(
    ("args", "key", "params"),
    [
        ([], "cli.manifest.url_required", {}),
        (["--url", "http://yakuba.example.jp"], "cli.manifest.bad_url", {"url": "http://yakuba.example.jp"}),
        (["--url", "yakuba.example.jp"], "cli.manifest.bad_url", {"url": "yakuba.example.jp"}),
        (["--url", "https://"], "cli.manifest.bad_url", {"url": "https://"}),
        (["--url", "https://[::1"], "cli.manifest.bad_url", {"url": "https://[::1"}),
    ],
)
def test_a_manifest_slack_would_refuse_is_not_printed(args, key, params):
    result = CliRunner().invoke(main, ["manifest", *args], env={"YAKUBA_LANG": "ja"})
    assert result.exit_code == 2
    assert result.output.strip() == Texts("ja")(key, **params)
    assert "slash_commands" not in result.output
