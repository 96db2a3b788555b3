"""Block Kit limits Slack enforces, in one validator for the local emulator and the tests' fake Slack.

Slack refuses the whole message or view when one limit is broken (`invalid_blocks` for chat.* and
response_url posts, `invalid_arguments` for views.*), and the user sees nothing: the emulator does the
same so that tests and the console meet the refusal before real users do.
"""

from __future__ import annotations

from typing import Any

from bot.blocks.common import MESSAGE_BLOCKS

from .state import SlackError

VIEW_BLOCKS = 100
SECTION_TEXT, FIELD_TEXT, MAX_FIELDS = 3000, 2000, 10
HEADER_TEXT = 150
PRIVATE_METADATA = 3000
MAX_OPTIONS = {"static_select": 100, "multi_static_select": 100, "overflow": 5, "checkboxes": 10, "radio_buttons": 10}
OPTION_TEXT, OPTION_VALUE = 75, 150
BUTTON_TEXT, BUTTON_VALUE = 75, 2000
CONTEXT_ELEMENTS, ACTIONS_ELEMENTS = 10, 25


def _fail(code: str, pointer: str, problem: str) -> SlackError:
    # Slack names the offending place with a JSON pointer in response_metadata.messages.
    return SlackError(code, response_metadata={"messages": [f"[ERROR] {problem} [json-pointer:{pointer}]"]})


def _text(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    text = obj.get("text")
    return text if isinstance(text, str) else None


def _check_text(obj: Any, limit: int, code: str, pointer: str) -> None:
    text = _text(obj)
    if text is None:
        raise _fail(code, pointer, "must provide a text object")
    if not text:
        raise _fail(code, f"{pointer}/text", "must be more than 0 characters")
    if len(text) > limit:
        raise _fail(code, f"{pointer}/text", f"must be less than {limit + 1} characters")


def _check_element(element: Any, code: str, pointer: str) -> None:
    if not isinstance(element, dict) or "type" not in element:
        raise _fail(code, pointer, "must be an element with a type")
    kind = element["type"]
    if kind == "button":
        _check_text(element.get("text"), BUTTON_TEXT, code, f"{pointer}/text")
        if len(str(element.get("value", ""))) > BUTTON_VALUE:
            raise _fail(code, f"{pointer}/value", f"must be less than {BUTTON_VALUE + 1} characters")
    if kind in MAX_OPTIONS:
        options = element.get("options")
        if options is None and element.get("option_groups") is None:
            raise _fail(code, pointer, "must provide options or option_groups")
        groups = element.get("option_groups") or [{"options": options}]
        every = [o for g in groups for o in (g.get("options") or [])]
        if len(every) > MAX_OPTIONS[kind]:
            raise _fail(code, f"{pointer}/options", f"must provide at most {MAX_OPTIONS[kind]} items")
        for i, option in enumerate(every):
            _check_text(
                option.get("text") if isinstance(option, dict) else None,
                OPTION_TEXT,
                code,
                f"{pointer}/options/{i}/text",
            )
            if len(str(option.get("value", ""))) > OPTION_VALUE:
                raise _fail(code, f"{pointer}/options/{i}/value", f"must be less than {OPTION_VALUE + 1} characters")


def check_blocks(blocks: Any, limit: int, code: str) -> None:
    """Raise SlackError(code) for a block list Slack would refuse; None is no blocks at all."""
    if blocks is None:
        return
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise _fail(code, "/blocks", f"must provide at most {limit} items")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        if not isinstance(block, dict) or "type" not in block:
            raise _fail(code, at, "must be a block with a type")
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen:
                raise _fail(code, f"{at}/block_id", f"duplicate block_id {block_id}")
            seen.add(block_id)
        kind = block["type"]
        if kind == "section":
            if "text" in block or "fields" not in block:
                _check_text(block.get("text"), SECTION_TEXT, code, f"{at}/text")
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS:
                raise _fail(code, f"{at}/fields", f"must provide at most {MAX_FIELDS} items")
            for j, field in enumerate(fields):
                _check_text(field, FIELD_TEXT, code, f"{at}/fields/{j}")
            if "accessory" in block:
                _check_element(block["accessory"], code, f"{at}/accessory")
        elif kind == "header":
            _check_text(block.get("text"), HEADER_TEXT, code, f"{at}/text")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > CONTEXT_ELEMENTS:
                raise _fail(code, f"{at}/elements", f"must provide 1 to {CONTEXT_ELEMENTS} items")
            for j, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
                    _check_text(element, SECTION_TEXT, code, f"{at}/elements/{j}")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > ACTIONS_ELEMENTS:
                raise _fail(code, f"{at}/elements", f"must provide 1 to {ACTIONS_ELEMENTS} items")
            for j, element in enumerate(elements):
                _check_element(element, code, f"{at}/elements/{j}")
        elif kind == "input" and "element" in block:
            _check_element(block["element"], code, f"{at}/element")


def check_message(fields: dict[str, Any]) -> None:
    """A message body (chat.postMessage, chat.update, a response_url post, a command's ack)."""
    check_blocks(fields.get("blocks"), MESSAGE_BLOCKS, "invalid_blocks")


def check_view(spec: Any) -> None:
    """A modal or Home tab (views.open/push/update/publish, a view_submission's update or push)."""
    code = "invalid_arguments"
    if not isinstance(spec, dict) or not spec.get("type"):
        raise _fail(code, "/view", "must be an object with a type")
    for key in ("title", "submit", "close"):
        text = _text(spec.get(key)) or ""
        if len(text) > 24:
            raise _fail(code, f"/view/{key}/text", "must be less than 25 characters")
    if len(str(spec.get("private_metadata") or "")) > PRIVATE_METADATA:
        raise _fail(code, "/view/private_metadata", f"must be less than {PRIVATE_METADATA + 1} characters")
    check_blocks(spec.get("blocks", []), VIEW_BLOCKS, code)
