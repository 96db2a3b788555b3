"""FAQ messages: search results with 👍/👎, categories, "I do not know" with forwarding, admin posts, report.

Answers are organisers' mrkdwn: their http(s) links are kept, everything else is escaped, so an
answer can never ping `<!channel>` or a user.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.blocks.common import (
    Block,
    Mrkdwn,
    actions,
    button,
    clip,
    context,
    divider,
    esc,
    join,
    message,
    row_id,
    row_value,
    safe,
    section,
)
from bot.texts import Texts
from storage.models import Faq, UnansweredQuestion

HELPFUL = "faq.helpful"  # value = FAQ id
UNHELPFUL = "faq.unhelpful"  # value = FAQ id
EDIT = "faq.edit"  # value = FAQ id (organisers only; checked again in the handler)
FORWARD = "faq.forward"  # value = forward_value(): a logged question or one to log
ANSWER = "faq.answer"  # value = unanswered-question id: opens the add form pre-filled
ECHO = 100  # characters of a member's query echoed back

_LINK = re.compile(r"<(https?://[^\s<>|]+)(?:\|([^<>]*))?>")
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


def rich(text: str) -> Mrkdwn:
    """Escape mrkdwn written by organisers but keep its `<https://…|label>` links."""
    out, last = [], 0
    for m in _LINK.finditer(text):
        out.append(esc(text[last : m.start()]))
        label = m.group(2)
        out.append(f"<{m.group(1)}|{esc(label)}>" if label else f"<{m.group(1)}>")
        last = m.end()
    out.append(esc(text[last:]))
    return safe("".join(out))


def link(url: str | None, label: str) -> Mrkdwn:
    """`label` (escaped) linked to `url` when the URL is safe to put between < and >."""
    if url and _SAFE_URL.match(url):
        return safe(f"<{url}|{esc(label)}>")
    return esc(label)


def date_text(texts: Texts, day: date | None, key: str = "faq.date") -> str:
    return texts(key, year=day.year, month=day.month, day=day.day) if day else ""


def echo(query: str) -> Mrkdwn:
    return esc(clip(" ".join(query.split()), ECHO))


def _meta(texts: Texts, faq: Faq) -> str:
    parts = []
    if faq.source:
        parts.append(texts("faq.results.source", source=link(faq.source_url, faq.source)))
    elif faq.source_url:
        parts.append(texts("faq.results.source", source=link(faq.source_url, faq.source_url)))
    if faq.updated_on:
        parts.append(texts("faq.results.updated", date=date_text(texts, faq.updated_on)))
    return " · ".join(parts)


def entry_blocks(texts: Texts, faq: Faq, *, organiser: bool = False) -> list[Block]:
    """One entry: question and answer, source and date, and the feedback buttons (plus edit for organisers)."""
    question = texts("faq.results.question", question=faq.question)
    blocks: list[Block] = [section(f"{question}\n{rich(clip(faq.answer, 2600))}")]
    meta = _meta(texts, faq)
    if meta:
        blocks.append(context(meta))
    buttons = [
        button(texts("faq.results.helpful"), HELPFUL, row_value(faq.id)),
        button(texts("faq.results.unhelpful"), UNHELPFUL, row_value(faq.id)),
    ]
    if organiser:
        buttons.append(button(texts("faq.results.edit"), EDIT, row_value(faq.id)))
    blocks.append(actions(*buttons, block_id=f"faq-{faq.id}"))
    return blocks


def forward_button(texts: Texts, value: str, style: str | None = None) -> dict[str, Any]:
    return button(texts("faq.forward.button"), FORWARD, value, style=style)


def results_message(
    texts: Texts, query: str, faqs: list[Faq], *, organiser: bool = False, offer_forward: bool = False
) -> dict[str, Any]:
    """The top entries for /faq; `offer_forward` adds "send to the organisers" when none is a sure match."""
    blocks: list[Block] = [section(texts("faq.results.header", query=echo(query), count=len(faqs)))]
    for faq in faqs:
        blocks += [divider(), *entry_blocks(texts, faq, organiser=organiser)]
    if offer_forward:
        blocks += [
            divider(),
            context(texts("faq.results.not_found_hint")),
            actions(forward_button(texts, forward_value(question=query))),
        ]
    return message(texts("faq.results.fallback", query=echo(query)), blocks)


def categories_message(texts: Texts, categories: list[tuple[str, int]]) -> dict[str, Any]:
    lines = [texts("faq.categories.header")]
    lines += [texts("faq.categories.line", name=name, count=count) for name, count in categories[:40]]
    if not categories:
        lines.append(texts("faq.categories.empty"))
    return message(texts("faq.categories.fallback"), [section("\n".join(lines)), context(texts("faq.categories.hint"))])


def no_match_message(texts: Texts, query: str, unanswered_id: int | None) -> dict[str, Any]:
    text = texts("faq.no_match.text", query=echo(query))
    blocks: list[Block] = [section(text)]
    if unanswered_id is not None:
        blocks.append(actions(forward_button(texts, forward_value(unanswered_id=unanswered_id), style="primary")))
    blocks.append(context(texts("faq.no_match.hint")))
    return message(text, blocks)


def answer_message(texts: Texts, faq: Faq) -> dict[str, Any]:
    """A confident answer to a mention or a DM, posted in the asker's thread."""
    return message(texts("faq.mention.fallback", question=faq.question), entry_blocks(texts, faq), unfurl_links=False)


def dont_know_message(texts: Texts, related: list[Faq], unanswered_id: int | None) -> dict[str, Any]:
    """Not sure: say so kindly (never a guess), name related entries, offer forwarding."""
    text = texts("faq.mention.dont_know")
    blocks: list[Block] = [section(text)]
    if related:
        questions = join(" / ", (texts("faq.mention.related_item", question=f.question) for f in related))
        blocks.append(context(texts("faq.mention.related", questions=questions)))
    if unanswered_id is not None:
        blocks.append(actions(forward_button(texts, forward_value(unanswered_id=unanswered_id))))
    blocks.append(context(texts("faq.mention.try_faq")))
    return message(text, blocks, unfurl_links=False)


def forwarded_message(texts: Texts, row: UnansweredQuestion, user_id: str) -> dict[str, Any]:
    """The admin-channel card: the question (escaped), who asked, and "write an answer"."""
    text = texts("faq.forward.admin", question=clip(row.question, 1500), count=row.count, user=user_id)
    blocks = [section(text), actions(button(texts("faq.forward.answer"), ANSWER, row_value(row.id), style="primary"))]
    return message(texts("faq.forward.admin_fallback"), blocks)


def report_message(texts: Texts, week: str, unanswered: list[UnansweredQuestion], unhelpful: list[Faq]) -> dict:
    none = texts("faq.report.none")
    first = [texts("faq.report.unanswered")]
    first += [
        texts("faq.report.unanswered_line", question=clip(q.question, 200), count=q.count) for q in unanswered
    ] or [none]
    second = [texts("faq.report.unhelpful")]
    second += [
        texts(
            "faq.report.unhelpful_line",
            id=f.id,
            question=clip(f.question, 200),
            helpful=f.helpful,
            unhelpful=f.unhelpful,
        )
        for f in unhelpful
    ] or [none]
    blocks = [
        section(texts("faq.report.header", week=week)),
        section("\n".join(first)),
        section("\n".join(second)),
        context(texts("faq.report.footer")),
    ]
    return message(texts("faq.report.fallback", week=week), blocks)


def forward_value(*, unanswered_id: int | None = None, question: str | None = None) -> str:
    """The forward button's value: a logged question ("id:7") or one to log when pressed ("q:…")."""
    return f"id:{unanswered_id}" if unanswered_id is not None else "q:" + clip(question or "", 1000)


def parse_forward(value: str) -> tuple[int | None, str | None]:
    kind, _, rest = (value or "").partition(":")
    if kind == "id" and row_id(rest) is not None:
        return row_id(rest), None
    if kind == "q" and rest.strip():
        return None, rest
    return None, None
