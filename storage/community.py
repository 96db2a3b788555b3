"""The community profile: who may join, what the registration form asks and why, which features are on.

One YAML file describes a community (YAKUBA_COMMUNITY); without it the built-in オンライン市役所 profile
applies. The file is checked whole before anything starts: a wrong one is refused as `ProfileProblem`,
naming the key (e.g. `fields[3].options`) and a reason that the CLI turns into one catalogue line.
Storage owns this value type because members' answers are stored per profile field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from storage.io_errors import FileProblem, yaml_problem

FieldKind = Literal[
    "text", "long_text", "email", "phone", "select", "prefecture", "municipality", "sections", "checkbox"
]
TEXT_KINDS = frozenset({"text", "long_text", "email", "phone"})
TEXT_LIMIT = 3000  # Slack's plain_text_input max_length
BUILT_IN = "online-shiyakusho"
SHIPPED = ("online-shiyakusho", "1741", "local-letter")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _rule(name: str, **params: Any) -> PydanticCustomError:
    """A broken profile rule; `name` is the catalogue key's last part (cli.profile.rules.NAME)."""
    return PydanticCustomError("profile_rule", name, {"rule": name, **params})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Label(_Strict):
    """Text shown to members, in Japanese and optionally English (Japanese when English is missing)."""

    ja: str = Field(min_length=1, max_length=TEXT_LIMIT)
    en: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMIT)

    def __call__(self, language: str) -> str:
        return self.en if language == "en" and self.en else self.ja


class Option(_Strict):
    value: str = Field(min_length=1, max_length=75)  # Slack's option value limit is 150 bytes
    label: Label


class ProfileField(_Strict):
    """One question of the registration form, in the order the profile lists them."""

    key: str
    label: Label
    kind: FieldKind
    required: bool = False
    personal: bool = True  # personal data under APPI: a purpose is shown in the form and in /mydata export
    purpose: Label | None = None
    hint: Label | None = None
    options: tuple[Option, ...] = Field(default=(), max_length=100)
    max_length: int | None = Field(default=None, ge=1, le=TEXT_LIMIT)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise _rule("bad_key", value=value[:40])
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProfileField:
        if self.personal and self.purpose is None and self.kind != "checkbox":
            raise _rule("purpose_missing")
        if self.kind == "select" and not self.options:
            raise _rule("options_missing")
        if self.kind != "select" and self.options:
            raise _rule("options_unused", kind=self.kind)
        if len({o.value for o in self.options}) != len(self.options):
            raise _rule("options_repeated")
        if len(self.options) > 100:
            raise _rule("options_too_many")
        if self.max_length is not None and self.kind not in TEXT_KINDS:
            raise _rule("max_length_unused", kind=self.kind)
        return self

    @property
    def limit(self) -> int | None:
        """The longest answer accepted, for text kinds (the form and the submit check use the same)."""
        if self.kind not in TEXT_KINDS:
            return None
        default = {"long_text": 1000, "email": 254, "phone": 30}.get(self.kind, 100)
        return self.max_length or default


class Eligibility(_Strict):
    """Who may join, and the statement the applicant confirms (none for `anyone`)."""

    who: Literal["public_servant", "local_government", "anyone"]
    statement: Label | None = None

    @model_validator(mode="after")
    def _statement(self) -> Eligibility:
        if self.who != "anyone" and self.statement is None:
            raise _rule("statement_missing", who=self.who)
        return self


class Consent(_Strict):
    """Terms the applicant agrees to; a new `version` asks every member once to agree again."""

    version: str = Field(min_length=1, max_length=40)
    url: str = Field(pattern=r"^https://[^\s/]+\.[^\s/]+(/\S*)?$", max_length=500)
    text: Label


class Approval(_Strict):
    """`manual`: an organiser approves everyone. `auto`: a Slack email under one of `domains` is approved
    at once (and named in the daily summary); anyone else still waits for an organiser."""

    mode: Literal["manual", "auto"] = "manual"
    domains: tuple[str, ...] = ()

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(d.strip().lower().lstrip(".").removeprefix("@") for d in value)
        for domain in cleaned:
            if not _DOMAIN.match(domain) or "." not in domain:
                raise _rule("bad_domain", value=domain[:60])
        return cleaned

    @model_validator(mode="after")
    def _auto_needs_domains(self) -> Approval:
        if self.mode == "auto" and not self.domains:
            raise _rule("domains_missing")
        if self.mode == "manual" and self.domains:
            raise _rule("domains_unused")
        return self

    def approves(self, email: str | None) -> str | None:
        """The domain rule that approves this email at once, or None (then an organiser decides)."""
        if self.mode != "auto" or not email or "@" not in email:
            return None
        host = email.rsplit("@", 1)[1].strip().lower()
        return next((d for d in self.domains if host == d or host.endswith("." + d)), None)


class Features(_Strict):
    prefecture_channels: bool = True
    sections: bool = True
    programs: bool = True
    events: bool = True
    directory_map: bool = True


class CommunityProfile(_Strict):
    """A whole community: its name and welcome, eligibility, form, consent, approval and features."""

    name: str = Field(min_length=1, max_length=80)
    welcome: Label
    eligibility: Eligibility
    fields: tuple[ProfileField, ...] = Field(min_length=1, max_length=20)  # a modal holds at most 100 blocks
    consent: Consent | None = None
    approval: Approval = Approval()
    features: Features = Features()

    @model_validator(mode="after")
    def _form(self) -> CommunityProfile:
        keys = [f.key for f in self.fields]
        for key in keys:
            if keys.count(key) > 1:
                raise _rule("key_repeated", key=key)
        kinds = [f.kind for f in self.fields]
        for single in ("prefecture", "municipality", "sections", "email"):
            if kinds.count(single) > 1:
                raise _rule("kind_repeated", kind=single)
        if "municipality" in kinds and (
            "prefecture" not in kinds or kinds.index("municipality") < kinds.index("prefecture")
        ):
            raise _rule("municipality_first")
        if self.features.prefecture_channels and "prefecture" not in kinds:
            raise _rule("prefecture_needed")
        if "sections" in kinds and not self.features.sections:
            raise _rule("sections_off")
        return self

    def field(self, key: str) -> ProfileField | None:
        return next((f for f in self.fields if f.key == key), None)

    @property
    def personal_fields(self) -> tuple[ProfileField, ...]:
        return tuple(f for f in self.fields if f.personal)

    @property
    def is_built_in(self) -> bool:
        """The whole profile is the built-in オンライン市役所 one (unset, or its file named explicitly): members then
        see today's オンライン市役所 texts; any other profile gets neutral ones, with its own name and welcome."""
        return self == shipped(BUILT_IN)

    @property
    def is_built_in_form(self) -> bool:
        """The form, eligibility and consent are the built-in オンライン市役所 ones (today's fixed modal)."""
        built_in = shipped(BUILT_IN)
        return (self.fields, self.eligibility, self.consent) == (
            built_in.fields,
            built_in.eligibility,
            built_in.consent,
        )

    @property
    def stores_email(self) -> bool:
        """The Slack email is read for auto-approval; it is kept only when the form has an email field."""
        return any(f.kind == "email" for f in self.fields)


class ProfileProblem(ValueError):
    """A profile refused: `where` is the key path (`fields[2].options`, or "" for the file), `rule` the
    reason's catalogue name under cli.profile.rules, `params` its values."""

    def __init__(self, where: str, rule: str, /, **params: Any) -> None:
        super().__init__(f"{where}: {rule}")
        self.where = where
        self.rule = rule
        self.params = params


# pydantic's error types → our reason names (the rest fall back to "invalid").
_REASONS = {
    "missing": "missing",
    "extra_forbidden": "unknown_key",
    "literal_error": "not_one_of",
    "string_type": "not_text",
    "bool_type": "not_yes_no",
    "bool_parsing": "not_yes_no",
    "int_type": "not_number",
    "int_parsing": "not_number",
    "tuple_type": "not_list",
    "list_type": "not_list",
    "model_type": "not_mapping",
    "model_attributes_type": "not_mapping",
    "dict_type": "not_mapping",
    "string_too_short": "empty",
    "string_too_long": "too_long",
    "too_short": "empty",
    "too_long": "too_many",
    "string_pattern_mismatch": "bad_url",
    "less_than_equal": "too_large",
    "greater_than_equal": "too_small",
}


def _where(location: tuple[Any, ...]) -> str:
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "model-")):
            out += ("." if out else "") + str(part)
    return out


def _problem(error: ValidationError, data: Mapping[str, Any]) -> ProfileProblem:
    first = error.errors(include_url=False)[0]
    where = _where(first["loc"])
    location = first["loc"]
    if len(location) >= 2 and location[0] == "fields" and isinstance(location[1], int):
        # Name the field by its key too: "fields[3]" alone makes the organiser count.
        fields = data.get("fields")
        item = fields[location[1]] if isinstance(fields, list) and location[1] < len(fields) else None
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            where = where.replace(f"fields[{location[1]}]", f"fields[{location[1]}]（{item['key'][:40]}）", 1)
    if first["type"] == "profile_rule":
        params = dict(first.get("ctx") or {})
        return ProfileProblem(where, params.pop("rule"), **params)
    ctx = first.get("ctx") or {}
    params: dict[str, Any] = {}
    if first["type"] == "literal_error":
        params["choices"] = str(ctx.get("expected", "")).replace("'", "")
    elif first["type"] in ("string_too_long", "too_long", "less_than_equal"):
        params["limit"] = ctx.get("max_length", ctx.get("le", ""))
    elif first["type"] == "greater_than_equal":
        params["limit"] = ctx.get("ge", "")
    return ProfileProblem(where, _REASONS.get(first["type"], "invalid"), **params)


def parse(data: Any) -> CommunityProfile:
    if not isinstance(data, Mapping):
        raise ProfileProblem("", "not_mapping")
    try:
        return CommunityProfile.model_validate(data)
    except ValidationError as exc:
        raise _problem(exc, data) from None


def load(path: Path) -> CommunityProfile:
    """A profile file, checked whole. Unreadable files raise `FileProblem`, wrong ones `ProfileProblem`."""
    if not path.is_file():
        raise FileProblem("cli.import.missing", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FileProblem("cli.import.not_utf8", file=str(path)) from None
    except OSError:
        raise FileProblem("cli.import.unreadable", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_problem(exc) from None
    return parse(data)


@cache  # frozen values: one parse per process
def shipped(name: str = BUILT_IN) -> CommunityProfile:
    """One of the profiles shipped in the package (storage/data/communities/NAME.yaml)."""
    text = resources.files("storage.data").joinpath("communities", f"{name}.yaml").read_text(encoding="utf-8")
    return parse(yaml.safe_load(text))


def in_force(path: str | None) -> CommunityProfile:
    """YAKUBA_COMMUNITY's profile, or the built-in オンライン市役所 one when it is unset or empty."""
    return load(Path(path)) if path else shipped(BUILT_IN)
