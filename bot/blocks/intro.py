"""Introductions as Block Kit: the group DM, the check-in a week later, the App Home corner, the figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from bot.blocks.common import Block, actions, button, context, divider, esc, header, message, plain, row_value, section
from bot.texts import Texts
from storage.intro import CHECKINS, PREFERENCES, RoundFigures
from storage.models import IntroOptIn

CHECKIN_ACTION = "intro.checkin"  # + "." + answer; the button's value is the seat id (row_value)
HOME_JOIN, HOME_PAUSE, HOME_PREFERENCE = "intro.home_join", "intro.home_pause", "intro.home_preference"
HOME_BLOCK = "intro_home"


@dataclass(frozen=True)
class Person:
    """What an introduction shows of a member: only what the directory shows every member already."""

    user_id: str
    name: str
    government: str  # plain label, e.g. 長野県 松本市
    department: str
    prefecture: str  # their 県人会
    region: str
    sections: frozenset[str] = field(default_factory=frozenset)


def preference_label(texts: Texts, preference: str) -> str:
    return texts(f"intro.preferences.{preference if preference in PREFERENCES else 'any'}")


def starter(texts: Texts, people: list[Person]) -> str:
    """One conversation starter from what the group shares: a 課, then a prefecture, then two regions."""
    shared = frozenset.intersection(*(p.sections for p in people)) if people else frozenset()
    if shared:
        return texts("intro.message.starter_section", section=esc(sorted(shared)[0]))
    prefectures = {p.prefecture for p in people}
    if len(prefectures) == 1 and people[0].prefecture:
        return texts("intro.message.starter_pref", prefecture=esc(people[0].prefecture))
    regions = sorted({p.region for p in people if p.region})
    if len(regions) >= 2:
        return texts("intro.message.starter_region", region_a=esc(regions[0]), region_b=esc(regions[1]))
    return texts("intro.message.starter_any")


def intro_message(texts: Texts, people: list[Person], *, community: str | None = None) -> dict[str, Any]:
    """The group DM: who is who (the 課 they share with the others), one starter, and what happens next.
    `community`: the name of a community open to anyone, greeted as fellow members rather than public servants."""
    lead = texts("intro.message.lead_neutral", community=community) if community else texts("intro.message.lead")
    blocks: list[Block] = [header(texts("intro.message.header")), section(lead)]
    for person in people:
        others = frozenset().union(*(p.sections for p in people if p.user_id != person.user_id))
        lines = [texts("intro.message.person", name=esc(person.name), government=esc(person.government))]
        details = [esc(person.department)] if person.department else []
        if person.prefecture:
            details.append(texts("intro.message.kenjinkai", prefecture=esc(person.prefecture)))
        if shared := sorted(person.sections & others):
            details.append(texts("intro.message.sections", sections=esc(texts("intro.message.separator").join(shared))))
        if details:
            lines.append(" / ".join(details))
        blocks.append(section("\n".join(lines)))
    blocks += [
        divider(),
        section(texts("intro.message.starter_title") + "\n" + starter(texts, people)),
        context(texts("intro.message.footer")),
    ]
    return message(texts("intro.message.text"), blocks)


def checkin_message(texts: Texts, seat_id: int) -> dict[str, Any]:
    buttons = [
        button(texts(f"intro.checkin.{answer}"), f"{CHECKIN_ACTION}.{answer}", row_value(seat_id), style=style)
        for answer, style in zip(CHECKINS, ("primary", None, None), strict=True)
    ]
    return message(
        texts("intro.checkin.text"),
        [section(texts("intro.checkin.question")), actions(*buttons, block_id="intro_checkin")],
    )


def checkin_answered(texts: Texts, answer: str) -> dict[str, Any]:
    """Replaces the check-in message once answered (the buttons go)."""
    line = texts(f"intro.checkin.thanks.{answer}")
    return message(line, [section(texts("intro.checkin.question")), context(line)])


def home_blocks(texts: Texts, optin: IntroOptIn | None) -> list[Block]:
    """The App Home corner: state, a join/pause button, and the preference select."""
    active = optin is not None and optin.active
    preference = optin.preference if optin is not None else "any"
    state = (
        texts("intro.home.on", preference=preference_label(texts, preference)) if active else texts("intro.home.off")
    )
    toggle = (
        button(texts("intro.home.pause"), HOME_PAUSE, value="pause")
        if active
        else button(texts("intro.home.join"), HOME_JOIN, value="join", style="primary")
    )
    options = [{"text": plain(preference_label(texts, p)), "value": p} for p in PREFERENCES]
    select = {
        "type": "static_select",
        "action_id": HOME_PREFERENCE,
        "placeholder": plain(texts("intro.home.preference")),
        "options": options,
        "initial_option": options[PREFERENCES.index(preference if preference in PREFERENCES else "any")],
    }
    return [
        section(texts("intro.home.title") + "\n" + state),
        actions(toggle, select, block_id=HOME_BLOCK),
    ]


def figures_block(texts: Texts, rounds: list[RoundFigures], tz: tzinfo) -> Block:
    """For /members stats: the latest rounds and the met rate over the answers given."""
    if not rounds:
        return section(texts("intro.stats.title") + "\n" + texts("intro.stats.none"))
    lines = [
        texts(
            "intro.stats.line",
            when=_day(r.slot, tz),
            groups=r.groups,
            eligible=r.eligible,
            met=r.met,
            answered=r.answered,
        )
        for r in rounds
    ]
    answered = sum(r.answered for r in rounds)
    met = sum(r.met for r in rounds)
    if answered:
        lines.append(texts("intro.stats.met_rate", rate=round(100 * met / answered), answered=answered))
    return section(texts("intro.stats.title") + "\n" + "\n".join(lines))


def _day(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d")
