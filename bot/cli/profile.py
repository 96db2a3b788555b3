"""`yakuba profile check FILE` and `yakuba profile show`: the community profile, checked before anything starts."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import ConfigError, Settings, operator_language
from bot.texts import Texts
from storage import community
from storage.community import CommunityProfile, ProfileProblem
from storage.io_errors import FileProblem


def load_profile(path: str | None) -> CommunityProfile:
    """The profile in force (YAKUBA_COMMUNITY, else the built-in one), or one line saying what is wrong."""
    return _load(Path(path)) if path else community.shipped()


def _load(path: Path) -> CommunityProfile:
    try:
        return community.load(path)
    except FileProblem as problem:
        raise ConfigError(problem.key, **{**problem.params, "file": str(path)}) from None
    except ProfileProblem as problem:
        texts = Texts(operator_language(), markup=False)
        reason = texts(f"cli.profile.rules.{problem.rule}", **problem.params)
        if problem.where:
            raise ConfigError("cli.profile.invalid", file=str(path), where=problem.where, reason=reason) from None
        raise ConfigError("cli.profile.invalid_file", file=str(path), reason=reason) from None


def check(path: Path) -> str:
    """The line `profile check` prints for a profile that can be used."""
    profile = _load(path)
    texts = Texts(operator_language(), markup=False)
    return texts(
        "cli.profile.usable",
        file=str(path),
        name=profile.name,
        fields=len(profile.fields),
        approval=texts(f"cli.profile.approval.{profile.approval.mode}", domains=", ".join(profile.approval.domains)),
    )


def show(settings: Settings) -> str:
    """The profile in force as YAML (a starting point to copy), after a comment saying where it comes from."""
    profile = load_profile(settings.yakuba_community)
    texts = Texts(operator_language(), markup=False)
    source = settings.yakuba_community or texts("cli.profile.built_in")
    body = yaml.safe_dump(
        profile.model_dump(mode="json", exclude_none=True), allow_unicode=True, sort_keys=False, width=120
    )
    return f"# {texts('cli.profile.source', source=source)}\n{body}"
