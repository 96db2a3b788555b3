"""One declaration per slash command, next to its handler: help, the manifest and the deferral table read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

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
    """

    name: str
    opens_form: frozenset[str] = frozenset()
    organisers: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def slash(self) -> str:
        return f"/{self.name}"

    def summary_key(self) -> str:
        return f"help.commands.{self.name}.summary"

    def hint_key(self) -> str:
        return f"help.commands.{self.name}.hint"

    def opens_form_for(self, text: str) -> bool:
        return ANY in self.opens_form or first_word(text) in self.opens_form

    def joined(self, *parts: SlashCommand) -> SlashCommand:
        """This command with the verbs other features declare for it (their forms and organisers' verbs)."""
        forms, organisers = set(self.opens_form), dict(self.organisers)
        for part in parts:
            assert part.name == self.name, part.name
            forms |= part.opens_form
            organisers |= part.organisers
        return SlashCommand(self.name, opens_form=frozenset(forms), organisers=organisers)

    def refusal_for(self, text: str) -> str | None:
        """The refusal's catalogue key when this text is an organisers' verb; None when anyone may use it."""
        return self.organisers.get(ANY) or self.organisers.get(first_word(text))


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
