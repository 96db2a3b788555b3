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
from bot.texts.markup import pieces, spans
from storage.models import Faq, UnansweredQuestion

HELPFUL = "faq.helpful"  # value = FAQ id
UNHELPFUL = "faq.unhelpful"  # value = FAQ id
EDIT = "faq.edit"  # value = FAQ id (organisers only; checked again in the handler)
FORWARD = "faq.forward"  # value = forward_value(): a logged question or one to log
ANSWER = "faq.answer"  # value = unanswered-question id: opens the add form pre-filled
LINK = "faq.link"  # value = unanswered-question id: opens "answer with an existing entry"
MORE = "faq.more"  # value = more_value(): the entry and where in its answer the next message starts
ECHO = 100  # characters of a member's query echoed back

# Long answers are shown whole: cut at line ends into sections (Slack: 3,000 characters of mrkdwn each), at
# most PAGE characters of answer per message so that, with question, source and buttons, a message stays
# under Slack's practical limit of about 11,000 characters of block text; the rest is one click away.
SECTION = 2_900
PAGE = 9_000

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


def _cost(unit: str) -> int:
    return len(rich(unit))


def answer_page(answer: str, start: int = 0, budget: int = PAGE) -> tuple[str, int | None]:
    """The part of `answer` from `start` that one message shows, and where the next part starts (None: done)."""
    rest = answer[start:]
    cuts = spans(rest, budget, _cost)
    if not cuts:
        return "", None
    return rest[: cuts[0][1]], (start + cuts[1][0] if len(cuts) > 1 else None)


def answer_sections(heading: str, text: str) -> list[Block]:
    """`heading` and the organiser's `text` as sections, cut at line ends, never inside a link or `&amp;`."""
    chunks = [rich(p) for p in pieces(text, SECTION, _cost)] or [""]
    if len(heading) + 1 + len(chunks[0]) <= 3000:
        return [section(f"{heading}\n{chunks[0]}"), *(section(c) for c in chunks[1:])]
    return [section(heading), *(section(c) for c in chunks)]


def more_value(faq_id: int, start: int) -> str:
    return f"{row_value(faq_id)}:{row_value(start)}"


def parse_more(value: str) -> tuple[int, int] | None:
    number, _, start = (value or "").partition(":")
    if row_id(number) is None or row_id(start) is None:
        return None
    return row_id(number), row_id(start)


def entry_blocks(texts: Texts, faq: Faq, *, organiser: bool = False, budget: int = PAGE, start: int = 0) -> list[Block]:
    """One entry: question and (a page of) answer, source and date, the buttons (edit for organisers).

    An answer longer than `budget` shows its first part, a marker and "read more" (`start` > 0: a later part).
    """
    key = "faq.results.question" if start == 0 else "faq.results.continued"
    shown, following = answer_page(faq.answer, start, budget)
    blocks = answer_sections(texts(key, question=esc(faq.question)), shown)
    buttons = []
    if following is not None:
        blocks.append(context(texts("faq.results.more_hint", shown=following, total=len(faq.answer))))
        buttons.append(button(texts("faq.results.more"), MORE, more_value(faq.id, following), style="primary"))
    meta = _meta(texts, faq)
    if meta:
        blocks.append(context(meta))
    buttons += [
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
    budget = max(SECTION, PAGE // max(1, len(faqs)))  # three long answers share one message's room
    for faq in faqs:
        blocks += [divider(), *entry_blocks(texts, faq, organiser=organiser, budget=budget)]
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


def continued_message(texts: Texts, faq: Faq, start: int) -> dict[str, Any]:
    """The next part of a long answer, after "read more"."""
    return message(
        texts("faq.results.continued_fallback", question=esc(faq.question)),
        entry_blocks(texts, faq, start=start),
        unfurl_links=False,
    )


def forwarded_message(
    texts: Texts,
    row: UnansweredQuestion,
    user_id: str,
    *,
    answer: Faq | None = None,
    by: str | None = None,
    alias: bool = False,
) -> dict[str, Any]:
    """The admin-channel card: the question (escaped), who asked, and "write an answer" / "answer with an
    entry" — or, once answered, with which entry and by whom (the edit button shows the taught alias)."""
    text = texts("faq.forward.admin", question=esc(clip(row.question, 1500)), count=row.count, user=user_id)
    blocks: list[Block] = [section(text)]
    if answer is None:
        blocks.append(
            actions(
                button(texts("faq.forward.answer"), ANSWER, row_value(row.id), style="primary"),
                button(texts("faq.forward.link"), LINK, row_value(row.id)),
            )
        )
        return message(texts("faq.forward.admin_fallback"), blocks)
    done = texts("faq.forward.answered", by=by or "", id=answer.id, question=esc(clip(answer.question, 200)))
    blocks.append(context(done + (" " + texts("faq.forward.alias_added", id=answer.id) if alias else "")))
    blocks.append(actions(button(texts("faq.results.edit"), EDIT, row_value(answer.id))))
    return message(texts("faq.forward.answered_fallback"), blocks)


def answered_dm(texts: Texts, question: str, faq: Faq) -> dict[str, Any]:
    """To a member who forwarded a question: the organisers answered it with this entry."""
    intro = texts("faq.answered.intro", question=esc(clip(question, 500)))  # the answer needs the room
    return message(
        texts("faq.answered.fallback"), [section(intro), divider(), *entry_blocks(texts, faq)], unfurl_links=False
    )


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
