"""The App Home tab: profile and status, 県人会 and 課, today's 庁内放送, and the organisers' corner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.blocks.common import Block, actions, button, context, divider, esc, header, join, plain, safe, section
from bot.blocks.intro import home_blocks as intro_blocks
from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.blocks.registration import government_label
from bot.texts import Texts
from bot.texts.markup import pieces
from storage.community import Features
from storage.members import Profile
from storage.models import IntroOptIn, Member, Section

FAQ_SEARCH = "home.faq_search"
FAQ_VIEW = "home.faq_submit"
FAQ_BLOCK, FAQ_INPUT = "home_faq", "home.faq_query"
MAX_PENDING = 10
HOME_CLIP = 1_200  # answer characters in the App Home search modal; longer ones end with a marker


@dataclass
class HomeData:
    community: str
    member: Member | None
    channel_id: str | None = None
    sections: list[Section] = field(default_factory=list)
    today: list[tuple[str, str]] = field(default_factory=list)  # (HH:MM, title)
    organizer: bool = False
    pending: list[tuple[str, Profile, str]] = field(default_factory=list)  # (user id, profile, submitted)
    pending_total: int = 0
    stats_summary: str | None = None
    intro: IntroOptIn | None = None  # introductions: shown to approved members (opt-in, never default)
    features: Features = field(default_factory=Features)  # the profile's: what is off is not shown
    built_in: bool = True  # the built-in オンライン市役所 profile: its own words (庁内放送); else neutral ones


def _profile_blocks(texts: Texts, member: Member, channel_id: str | None, channels: bool = True) -> list[Block]:
    status = "left" if member.left_at else member.status
    blocks: list[Block] = [section(texts("home.status", status=texts(f"home.statuses.{status}")))]
    if member.name and member.pref_code:
        profile = Profile.of(member)
        blocks.insert(
            0,
            section(
                texts(
                    "home.profile",
                    name=profile.name,
                    government=government_label(texts, profile),
                    department=profile.department,
                    title=f" {profile.title}" if profile.title else "",
                )
            ),
        )
        if channels:
            channel = safe(f"<#{esc(channel_id)}>") if channel_id else texts("home.no_channel")
            blocks.append(section(texts("home.kenjinkai", channel=channel)))
    return blocks


def home_view(texts: Texts, data: HomeData) -> dict[str, Any]:
    member = data.member
    registered = member is not None and bool(member.name and member.pref_code)
    blocks: list[Block] = [header(texts("home.title", community=data.community))]
    if member is not None and registered:
        blocks += _profile_blocks(texts, member, data.channel_id, data.features.prefecture_channels)
    else:
        channels = data.features.prefecture_channels
        blocks.append(section(texts("home.not_registered" if channels else "home.not_registered_plain")))
    shows_sections = data.features.sections
    if shows_sections and data.sections:
        names = join(
            "\n",
            (safe(f"• {esc(s.name)}" + (f" <#{esc(s.channel_id)}>" if s.channel_id else "")) for s in data.sections),
        )
        blocks.append(section(texts("home.sections", sections=names)))
    elif shows_sections and registered:
        blocks.append(section(texts("home.sections", sections=texts("home.no_sections"))))
    if data.features.programs:
        lines = join("\n", (texts("home.program_line", time=t, title=title) for t, title in data.today))
        today, none = (
            ("home.today", "home.no_programs") if data.built_in else ("home.today_neutral", "home.no_programs_neutral")
        )
        blocks.append(section(texts(today, lines=lines or texts(none))))
    register = button(
        texts("home.edit" if registered else "home.register"),
        OPEN_REGISTRATION,
        value="home",
        style=None if registered else "primary",
    )
    blocks.append(actions(register, button(texts("home.faq"), FAQ_SEARCH, value="home")))
    if member is not None and member.status == "approved" and member.left_at is None:
        blocks += [divider(), *intro_blocks(texts, data.intro)]
    if data.organizer:
        blocks += [divider(), header(texts("home.organizer"))]
        pending = join(
            "\n",
            (
                texts("home.pending_line", user=user, government=government_label(texts, profile), submitted=submitted)
                for user, profile, submitted in data.pending[:MAX_PENDING]
            ),
        )
        blocks.append(section(texts("home.pending", count=data.pending_total) + (f"\n{pending}" if pending else "")))
        if data.stats_summary:
            blocks.append(section(texts("home.stats", summary=data.stats_summary)))
        blocks.append(context(texts("home.approvals_hint")))
    return {"type": "home", "blocks": blocks[:100]}


def faq_modal(texts: Texts) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": FAQ_VIEW,
        "title": plain(texts("home.faq_modal.title")),
        "submit": plain(texts("home.faq_modal.submit")),
        "close": plain(texts("home.faq_modal.close")),
        "blocks": [
            {
                "type": "input",
                "block_id": FAQ_BLOCK,
                "label": plain(texts("home.faq_modal.label")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FAQ_INPUT,
                    "max_length": 200,
                    "placeholder": plain(texts("home.faq_modal.placeholder")),
                },
            }
        ],
    }


def faq_results(texts: Texts, *, query: str, hits: list[tuple[str, str, str | None, str | None]]) -> dict[str, Any]:
    """hits: (question, answer, source, updated) — shown in place of the search form."""
    blocks: list[Block] = [section(texts("home.faq_modal.results", query=query))]
    for question, answer, source, updated in hits:
        shown = pieces(answer, HOME_CLIP, lambda unit: len(esc(unit)))[0] if answer else ""
        # Clipped at a line end, and saying so.
        shown = esc(shown) + (texts("home.faq_modal.clipped") if len(shown) < len(answer) else "")
        blocks += [divider(), section(texts("home.faq_modal.hit", question=esc(question), answer=shown))]
        if source:
            blocks.append(context(texts("home.faq_modal.source", source=source, updated=updated or "-")))
    if not hits:
        blocks.append(section(texts("home.faq_modal.none")))
    return {
        "type": "modal",
        "title": plain(texts("home.faq_modal.title")),
        "close": plain(texts("home.faq_modal.close")),
        "blocks": blocks,
    }
