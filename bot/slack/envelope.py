"""The shapes Slack's envelopes always have, checked before bolt reads them (bolt answers 500 otherwise).

Slack never sends an `event` that is a string or a payload that is a list; a signed request that does is
hand-made or fuzzed, and is refused plainly (400) instead of reaching bolt's middleware.
"""

from __future__ import annotations

from typing import Any

# Top-level fields that are text whenever Slack sends them (events, commands, interactivity, options).
_TEXT = (
    "type",
    "token",
    "team_id",
    "api_app_id",
    "event_id",
    "enterprise_id",
    "command",
    "text",
    "user_id",
    "channel_id",
    "trigger_id",
    "response_url",
    "callback_id",
    "action_id",
    "block_id",
    "value",
    "challenge",
)
# Top-level fields that are objects whenever Slack sends them (interactivity payloads).
_OBJECT = ("user", "view", "container", "message", "state", "channel", "team", "enterprise")
_NULLABLE = ("channel", "team", "enterprise", "message")
_ITEMS = {"actions": dict, "authorizations": dict, "response_urls": dict}


def problem(body: Any) -> str | None:
    """None for an envelope bolt can read; else which part has the wrong shape (never its content)."""
    if not isinstance(body, dict):
        return "body"
    for key in _TEXT:
        if key in body and body[key] is not None and not isinstance(body[key], str):
            return key
    for key in _OBJECT:
        if key not in body or (body[key] is None and key in _NULLABLE):
            continue
        if not isinstance(body[key], dict):
            return key
    for key, item in _ITEMS.items():
        if key in body and (not isinstance(body[key], list) or not all(isinstance(x, item) for x in body[key])):
            return key
    if body.get("type") == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event"
    view = body.get("view")
    if isinstance(view, dict) and "state" in view:
        state = view["state"]
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            return "view.state"
    return None
