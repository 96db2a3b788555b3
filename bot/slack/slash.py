"""One declaration per slash command, next to its handler: help, the manifest and the deferral table read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from storage.community import Features

ANY = "*"  # in `opens_form` / `organisers`: any first word
YAKUBA = "/yakuba"  # shared by features that answer one of its verbs (handlers/yakuba.py declares it)


@dataclass(frozen=True)
class SlashCommand:
    """A slash command of the contract.

    Its summary and usage hint are the catalogue's `help.commands.<name>.summary|hint`; `opens_form` lists the
    first words of the text that open a form ("" for no text, "*" for any) — those always run at the front,
    where Slack's trigger_id is still valid; `organisers` maps the verbs only organisers may use ("*": the whole
    command) to the catalogue key of the line everyone else is told. `answered_in_time(handler, COMMAND)` checks
    it before the handler runs, so no handler repeats the check (buttons and forms still check their own: a
    forged submission never passes through a command). A command whose verbs mean something else with other
    words after them (`/faq add WORDS` searches, `/programs add now` is a usage error) asks `refusal_for` itself,
    once it has read the verb.

    `feature` names the community profile's feature (storage.community.Features) the whole command belongs
    to, `verb_features` the feature of single verbs (`/members map`: directory_map): a profile that switches
    one off loses it from help, the manifest and App Home, and typed anyway it answers one kind line. A verb
    that is off changes the command's lines to `…summary_no_VERB` / `…hint_no_VERB`. `staff` lists, in order,
    the verbs ("" the command itself) the organisers' help describes, each in `help.organizer.lines.NAME`
    (`NAME_VERB` for a verb): organisers' verbs and what organisers and leads may do (checked by the handler).
    `built_in_words`: its summary uses the built-in profile's own words; any other profile reads `…summary_neutral`.
    """

    name: str
    opens_form: frozenset[str] = frozenset()
    organisers: Mapping[str, str] = field(default_factory=dict, hash=False)
    feature: str | None = None
    verb_features: Mapping[str, str] = field(default_factory=dict, hash=False)
    staff: tuple[str, ...] = ()
    built_in_words: bool = False

    @property
    def slash(self) -> str:
        return f"/{self.name}"

    def summary_key(self, features: Features | None = None, *, built_in: bool = True) -> str:
        neutral = "" if built_in or not self.built_in_words else "_neutral"
        return f"help.commands.{self.name}.summary{self._suffix(features)}{neutral}"

    def hint_key(self, features: Features | None = None) -> str:
        return f"help.commands.{self.name}.hint{self._suffix(features)}"

    def _suffix(self, features: Features | None) -> str:
        return "".join(f"_no_{verb}" for verb in sorted(self.verbs_off(features))) if features else ""

    def is_off(self, features: Features) -> bool:
        """The whole command belongs to a feature this profile switches off."""
        return self.feature is not None and not getattr(features, self.feature)

    def verbs_off(self, features: Features) -> set[str]:
        return {verb for verb, feature in self.verb_features.items() if not getattr(features, feature)}

    def off_for(self, features: Features, text: str) -> bool:
        """Whether this typed text (`map …`) belongs to a feature the profile switches off."""
        return self.is_off(features) or first_word(text) in self.verbs_off(features)

    def staff_lines(self, features: Features) -> list[str]:
        """The organisers' help lines (catalogue keys) of what this profile keeps on."""
        if self.is_off(features):
            return []
        off = self.verbs_off(features)
        return [
            f"help.organizer.lines.{self.name}" + (f"_{verb}" if verb else "") for verb in self.staff if verb not in off
        ]

    def opens_form_for(self, text: str) -> bool:
        return ANY in self.opens_form or first_word(text) in self.opens_form

    def joined(self, *parts: SlashCommand) -> SlashCommand:
        """This command with the verbs other features declare for it (their forms and organisers' verbs)."""
        forms, organisers, features = set(self.opens_form), dict(self.organisers), dict(self.verb_features)
        staff = list(self.staff)
        for part in parts:
            assert part.name == self.name and part.feature is None, part.name
            forms |= part.opens_form
            organisers |= part.organisers
            features |= part.verb_features
            staff += [verb for verb in part.staff if verb not in staff]
        return SlashCommand(
            self.name,
            opens_form=frozenset(forms),
            organisers=organisers,
            feature=self.feature,
            verb_features=features,
            staff=tuple(staff),
            built_in_words=self.built_in_words,
        )

    def refusal_for(self, text: str) -> str | None:
        """The refusal's catalogue key when this text is an organisers' verb; None when anyone may use it."""
        return self.organisers.get(ANY) or self.organisers.get(first_word(text))


class HelpMenu(NamedTuple):
    """What help lists for a community: (name, summary key) of each command it keeps on, and the organisers'
    help lines (catalogue keys)."""

    commands: list[tuple[str, str]]
    staff: list[str]


def help_menu(commands: Iterable[SlashCommand], features: Features, *, built_in: bool = True) -> HelpMenu:
    """`built_in`: the built-in オンライン市役所 profile is in force (its own words), else neutral summaries."""
    kept = [c for c in commands if not c.is_off(features)]
    return HelpMenu(
        [(c.name, c.summary_key(features, built_in=built_in)) for c in kept],
        [line for c in kept for line in c.staff_lines(features)],
    )


def commands_off(commands: Iterable[SlashCommand], features: Features) -> set[str]:
    """The commands (names, no slash) of the features switched off: the manifest leaves them out."""
    return {c.name for c in commands if c.is_off(features)}


def first_word(text: str) -> str:
    return text.split(maxsplit=1)[0].lower() if text.strip() else ""


def opens_form(commands: Iterable[SlashCommand], command: str, text: str) -> bool:
    """Whether this command's text opens a form (then it must be answered at the front, never deferred)."""
    return any(c.slash == command and c.opens_form_for(text) for c in commands)


def verb(*words: str) -> Callable[..., Awaitable[bool]]:
    """A bolt listener matcher: the command's text starts with these words (the first one in any case).

    Lets a feature answer its own sub-command of a shared command (`/yakuba lead`, `/yakuba setup prefectures`)
    without the command's main handler importing it; the main handler is registered after, as the catch-all.
    """
    first, rest = words[0].lower(), list(words[1:])

    async def matches(command: dict) -> bool:
        said = str(command.get("text") or "").split()
        return bool(said) and said[0].lower() == first and said[1 : 1 + len(rest)] == rest

    return matches
