"""The organisers' "answer with an existing entry" modal for a forwarded question, and its search options."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import Block, clip, context, esc, plain, row_id, row_value, section
from bot.texts import Texts
from storage.models import Faq, UnansweredQuestion

CALLBACK = "faq.link.save"  # private_metadata: the unanswered question's id
BLOCK = "entry"
ENTRY = "faq.link.entry"  # the external_select: options are entries found by what the organiser types
OPTION_TEXT = 75  # Slack's limit for an option's text


def link_modal(texts: Texts, row: UnansweredQuestion) -> dict[str, Any]:
    blocks: list[Block] = [
        section(texts("faq.link.intro", question=esc(clip(row.question, 1500)))),
        {
            "type": "input",
            "block_id": BLOCK,
            "label": plain(texts("faq.link.label")),
            "element": {
                "type": "external_select",
                "action_id": ENTRY,
                "min_query_length": 0,  # empty: the entries closest to the question itself
                "placeholder": plain(texts("faq.link.placeholder")),
            },
        },
        context(texts("faq.link.hint")),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": row_value(row.id),
        "title": plain(texts("faq.link.title")),
        "submit": plain(texts("faq.link.submit")),
        "close": plain(texts("faq.form.close")),
        "blocks": blocks,
    }


def entry_option(texts: Texts, faq: Faq) -> dict[str, Any]:
    return {
        "text": plain(texts("faq.link.option", id=faq.id, question=faq.question), OPTION_TEXT),
        "value": row_value(faq.id),
    }


def chosen_entry(values: dict[str, Any]) -> int | None:
    """The entry id chosen in a submitted link modal."""
    element = (values.get(BLOCK) or {}).get(ENTRY)
    option = element.get("selected_option") if isinstance(element, dict) else None
    return row_id(option.get("value")) if isinstance(option, dict) else None


def question_id(view: dict[str, Any]) -> int | None:
    return row_id(view.get("private_metadata"))
