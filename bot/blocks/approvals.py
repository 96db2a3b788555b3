"""Approval: the card organisers decide on, the reason modal, the decision DMs, the greeting, the nudge."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from bot.blocks.common import (
    MESSAGE_BLOCKS,
    Block,
    Mrkdwn,
    actions,
    button,
    clip,
    context,
    divider,
    esc,
    header,
    join,
    message,
    plain,
    row_value,
    safe,
    section,
    sections,
)
from bot.blocks.registration import government_label
from bot.texts import Texts
from storage.community import CommunityProfile, Features
from storage.data import prefecture
from storage.members import Profile

# action_id / callback_id / block_id: shared with handlers/approvals.py.
APPROVE = "approval.approve"
REJECT = "approval.reject"
REJECT_VIEW = "approval.reject_reason"
REASON_BLOCK, REASON = "approval_reason", "approval.reason"
REASON_LIMIT = 1000
LIST_LIMIT = 15
CONSENT_LIMIT = 40  # members named under 規約の再同意待ち; the count says how many more


def when(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


ROWS = ("name", "government", "department", "title", "interests")
ALL_ROWS = ("name", "government", "prefecture", "department", "title", "interests")


def _prefecture_name(code: str | None) -> str:
    found = prefecture(code or "")
    return found.name if found else ""


def _profile_fields(texts: Texts, user_id: str, profile: Profile, rows: tuple[str, ...] = ROWS) -> list[dict[str, Any]]:
    none = texts("approvals.card.none")
    interests = join(", ", profile.interests) or none
    shown = {
        "name": lambda: texts("approvals.card.name", name=profile.name),
        "government": lambda: texts("approvals.card.government", government=government_label(texts, profile)),
        "prefecture": lambda: texts("approvals.card.prefecture", prefecture=_prefecture_name(profile.pref_code)),
        "department": lambda: texts("approvals.card.department", department=profile.department),
        "title": lambda: texts("approvals.card.title_field", title=profile.title if profile.title else none),
        "interests": lambda: texts("approvals.card.interests", interests=interests),
    }
    fields = [texts("approvals.card.applicant", user=user_id), *(shown[row]() for row in ALL_ROWS if row in rows)]
    return [{"type": "mrkdwn", "text": clip(field, 2000)} for field in fields]


def card(
    texts: Texts,
    *,
    request_id: int,
    user_id: str,
    profile: Profile,
    kind: str,
    submitted: str,
    decision: str | None = None,
    answers: tuple[tuple[str, str], ...] = (),
    confirmed: bool = True,
    rows: tuple[str, ...] = ROWS,
) -> dict[str, Any]:
    """The card in the admin channel. `decision` (already formatted mrkdwn) replaces the buttons.

    `answers` are (label, value) of the fields a community profile adds; `confirmed` says the applicant
    confirmed the eligibility statement (a profile open to anyone has none); `rows` are the typed fields
    the profile asks (all of them for the built-in form)."""
    title = "approvals.card.title_reapproval" if kind == "reapproval" else "approvals.card.title"
    blocks: list[Block] = [
        header(texts(title)),
        {"type": "section", "fields": _profile_fields(texts, user_id, profile, rows)},
    ]
    extra = [
        {"type": "mrkdwn", "text": clip(texts("approvals.card.answer", label=k, value=v), 2000)} for k, v in answers
    ]
    for start in range(0, len(extra), 10):  # a section holds at most 10 fields
        blocks.append({"type": "section", "fields": extra[start : start + 10]})
    blocks.append(
        context(texts("approvals.card.submitted" if confirmed else "approvals.card.submitted_plain", time=submitted))
    )
    if decision is None:
        value = row_value(request_id)
        blocks.append(
            actions(
                button(texts("approvals.card.approve"), APPROVE, value=value, style="primary"),
                button(texts("approvals.card.reject"), REJECT, value=value, style="danger"),
                block_id=f"approval:{request_id}",
            )
        )
    else:
        blocks.append(section(decision))
    fallback = texts("approvals.card.fallback", name=profile.name, government=government_label(texts, profile))
    return message(fallback, blocks)


def decision_line(texts: Texts, *, status: str, by: str, at: str, reason: str | None = None) -> str:
    if status == "approved":
        return texts("approvals.card.approved", by=by, time=at)
    return texts("approvals.card.rejected", by=by, time=at, reason=reason or "")


def reject_modal(texts: Texts, *, request_id: int, user_id: str, name: str, origin: dict[str, str]) -> dict[str, Any]:
    """Asks the reason; private_metadata carries the request and where the click came from."""
    meta = f"{request_id}|{origin.get('channel', '')}|{origin.get('ts', '')}"
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": meta,
        "title": plain(texts("approvals.reject_modal.title")),
        "submit": plain(texts("approvals.reject_modal.submit")),
        "close": plain(texts("approvals.reject_modal.close")),
        "blocks": [
            section(texts("approvals.reject_modal.intro", user=user_id, name=name)),
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": plain(texts("approvals.reject_modal.reason")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON,
                    "multiline": True,
                    "max_length": REASON_LIMIT,
                    "placeholder": plain(texts("approvals.reject_modal.placeholder")),
                },
            },
        ],
    }


def approved_dm(
    texts: Texts,
    *,
    community: str,
    pref_code: str,
    channel_id: str | None,
    broadcast_channel: str | None,
    pending: bool = False,
    profile: CommunityProfile | None = None,
) -> dict[str, Any]:
    """The welcome after approval; `pending`: the channel exists but the member could not be put in it yet.

    The built-in profile (or none) keeps its own lines (the Friday intro session, the in-house broadcast, 50+
    sections); any other profile gets neutral lines for the features it keeps on, none for those it switches off."""
    built_in = profile is None or profile.is_built_in
    features = Features() if profile is None else profile.features
    pref = prefecture(pref_code)
    pref_name = pref.name if pref else ""
    if not channel_id:
        where = texts("approvals.approved_dm.no_channel", prefecture=pref_name)
    else:
        where = texts(
            f"approvals.approved_dm.{'pending' if pending else 'channel'}",
            prefecture=pref_name,
            channel=safe(f"<#{esc(channel_id)}>"),
        )
    broadcast, plain = ("broadcast", "broadcast_plain") if built_in else ("programs", "programs_plain")
    lines = [texts("approvals.approved_dm.briefing")] if built_in else []
    if features.programs:
        lines.append(
            texts(f"approvals.approved_dm.{broadcast}", channel=safe(f"<#{esc(broadcast_channel)}>"))
            if broadcast_channel
            else texts(f"approvals.approved_dm.{plain}")
        )
    if features.sections:
        lines.append(texts(f"approvals.approved_dm.{'sections' if built_in else 'sections_neutral'}"))
    steps = "\n".join(lines)
    return message(
        texts("approvals.approved_dm.fallback", community=community),
        [
            header(texts("approvals.approved_dm.title")),
            *([section(where)] if features.prefecture_channels else []),
            *([section(f"{texts('approvals.approved_dm.next')}\n{steps}")] if lines else []),
            context(texts("approvals.approved_dm.footer")),
        ],
    )


def channel_ready_dm(texts: Texts, *, pref_code: str, channel_id: str) -> dict[str, Any]:
    """To a member approved while their 県人会 channel was being prepared: it is ready and they are in it."""
    pref = prefecture(pref_code)
    pref_name = pref.name if pref else ""
    return message(
        texts("approvals.channel_ready_dm.fallback", prefecture=pref_name),
        [
            header(texts("approvals.channel_ready_dm.title")),
            section(
                texts("approvals.approved_dm.channel", prefecture=pref_name, channel=safe(f"<#{esc(channel_id)}>"))
            ),
        ],
    )


def rejected_dm(texts: Texts, *, reason: str) -> dict[str, Any]:
    return message(
        texts("approvals.rejected_dm.fallback"),
        [
            section(texts("approvals.rejected_dm.body", reason=reason)),
            context(texts("approvals.rejected_dm.footer")),
        ],
    )


def greeting(texts: Texts, *, user_id: str, profile: Profile, key: str = "approvals.greeting") -> dict[str, Any]:
    """Posted in the prefecture channel; name and government are the member's own words, escaped."""
    pref = prefecture(profile.pref_code)
    text = texts(
        key,
        user=user_id,
        name=profile.name,
        government=government_label(texts, profile),
        prefecture=pref.name if pref else "",
    )
    return message(text, [section(text)])


def consent_waiting(texts: Texts, *, count: int, version: str, user_ids: list[str]) -> list[Block]:
    """/approvals' footer when terms changed: how many members have not agreed to `version` yet, and who."""
    if not count:
        return []
    shown = user_ids[:CONSENT_LIMIT]
    people = " ".join(f"<@{user}>" for user in shown)
    if count > len(shown):
        people += " " + texts("approvals.list.consent_more", count=count - len(shown))
    return [
        section(texts("approvals.list.consent", count=count, version=version)),
        context(clip(texts("approvals.list.consent_people", people=Mrkdwn(people)), 2900)),
    ]


def pending_list(
    texts: Texts, rows: list[dict[str, Any]], *, more: int = 0, footer: list[Block] | None = None
) -> dict[str, Any]:
    """/approvals: one compact card per pending request, each with the same buttons as the channel card;
    `footer` (the members who have not agreed to new terms) follows."""
    if not rows:
        empty = texts("approvals.list.empty")
        return message(empty, [section(empty), *footer]) if footer else message(empty)
    blocks: list[Block] = [header(texts("approvals.list.title"))]
    tail = footer or []
    listed = 0
    for row in rows[:LIST_LIMIT]:
        card = _pending_card(texts, row)
        # Slack refuses a message of more than 50 blocks whole: stop while the "N more" line and the footer fit.
        if len(blocks) + len(card) + 1 + len(tail) > MESSAGE_BLOCKS:
            break
        blocks += card
        listed += 1
    more += len(rows) - listed
    if more:
        blocks.append(context(texts("approvals.list.more", count=more)))
    blocks += tail
    return message(texts("approvals.list.title"), blocks)


def _pending_card(texts: Texts, row: dict[str, Any]) -> list[Block]:
    """One pending request in /approvals: who and when, a profile's answers, approve/reject, a divider."""
    profile: Profile = row["profile"]
    blocks: list[Block] = [
        section(
            texts(
                "approvals.nudge.line",
                user=row["user_id"],
                name=profile.name,
                government=government_label(texts, profile),
                date=row["submitted"],
            )
        )
    ]
    answers = row.get("answers") or ()
    if answers:  # the fields a community profile adds, in its order
        blocks.append(
            context(clip(" · ".join(texts("approvals.list.answer", label=k, value=v) for k, v in answers), 2900))
        )
    value = row_value(row["request_id"])
    blocks.append(
        actions(
            button(texts("approvals.card.approve"), APPROVE, value=value, style="primary"),
            button(texts("approvals.card.reject"), REJECT, value=value, style="danger"),
            block_id=f"approval:{row['request_id']}",
        )
    )
    blocks.append(divider())
    return blocks


def nudge(texts: Texts, rows: list[dict[str, Any]], auto: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The daily admin summary: overdue registrations, then the members auto-approved since the last one."""
    blocks: list[Block] = []
    if rows:
        blocks += _overdue(texts, rows)
    for_auto = auto or []
    if for_auto:
        blocks += _auto_approved(texts, for_auto)
    first = (
        texts("approvals.nudge.text", count=len(rows))
        if rows
        else texts("approvals.nudge.auto_text", count=len(for_auto))
    )
    return message(first, blocks)


def _auto_approved(texts: Texts, rows: list[dict[str, Any]]) -> list[Block]:
    lines = [
        texts(
            "approvals.nudge.auto_line",
            user=row["user_id"],
            name=row["profile"].name,
            government=government_label(texts, row["profile"]),
            domain=row["rule"] or texts.plain("approvals.nudge.unknown_rule"),
        )
        for row in rows[:LIST_LIMIT]
    ]
    if len(rows) > LIST_LIMIT:
        lines.append(texts("approvals.list.more", count=len(rows) - LIST_LIMIT))
    return [section(texts("approvals.nudge.auto_text", count=len(rows))), *sections(lines)]


def _overdue(texts: Texts, rows: list[dict[str, Any]]) -> list[Block]:
    lines = [
        texts(
            "approvals.nudge.line",
            user=row["user_id"],
            name=row["profile"].name,
            government=government_label(texts, row["profile"]),
            date=row["submitted"],
        )
        for row in rows[:LIST_LIMIT]
    ]
    text = texts("approvals.nudge.text", count=len(rows))
    return [section(text), section("\n".join(lines))]
