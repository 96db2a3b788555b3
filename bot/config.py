"""Settings: every environment variable of the contract, read once at start-up (`.env` honoured)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorError(Exception):
    """Something an operator can fix: printed as one line from the text catalogue, never as a traceback.

    `key` names a text in bot/texts (`cli.*`), `params` fill it; `exit_code` is 2 for configuration and 1
    for a failure at run time (the CLI's contract).
    """

    exit_code = 1

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class ConfigError(Exception):
    """A one-line, human message about a missing or bad setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite+aiosqlite:///yakuba.db"
    port: int = 3000
    yakuba_tz: str = "Asia/Tokyo"
    yakuba_lang: str = "ja"
    yakuba_organizers: str = ""
    yakuba_admin_channel: str | None = None
    yakuba_broadcast_channel: str | None = None
    # Not part of the public contract: tuning knobs with safe defaults.
    yakuba_community_name: str = "オンライン市役所"
    yakuba_catchup_minutes: int = Field(default=30, ge=0)
    yakuba_slack_timeout: float = Field(default=10.0, gt=0)
    # 庁内放送: the daily line-up time (HH:MM in YAKUBA_TZ), whether an empty day still gets a post, and how
    # many minutes before a programme the reminder and the DMs go out.
    yakuba_digest_time: str = Field(default="08:30", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")
    yakuba_digest_empty: bool = False
    yakuba_reminder_minutes: int = Field(default=10, ge=0, le=24 * 60)
    # Membership: 県人会 channel names ({code} 01–47, {romaji} e.g. tokyo) and when an approved member's
    # profile edit needs a new approval: org_type (default: only a change of organisation type),
    # municipality (any change of government), never.
    yakuba_prefecture_channel_pattern: str = "kenjinkai-{code}-{romaji}"
    yakuba_reapprove_on: Literal["org_type", "municipality", "never"] = "org_type"
    # Privacy: members who left are anonymised this many days after leaving (a nightly job).
    yakuba_anonymise_after_days: int = Field(default=365, ge=1)
    # Announcements: the workspace-wide budget of chat.postMessage per sliding minute the sender paces to.
    yakuba_announce_per_minute: int = Field(default=600, ge=1)
    # The inbox: slash commands are answered in the ack while the server is quiet ("busy", the default) and
    # through response_url once it is busy; "always" answers every command that opens no form that way.
    yakuba_defer_commands: Literal["busy", "always"] = "busy"

    @field_validator("yakuba_lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value not in ("ja", "en"):
            raise ValueError("YAKUBA_LANG must be ja or en")
        return value

    @field_validator("yakuba_tz")
    @classmethod
    def _known_tz(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.yakuba_tz)

    @property
    def organizers(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.yakuba_organizers.split(",") if u.strip())

    def require(self, *names: str) -> None:
        """Fail with one line naming the first missing variable (for serve/socket)."""
        for name in names:
            if not getattr(self, name.lower()):
                raise ConfigError(f"{name.upper()} is not set; export it or put it in .env")


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ("?",), "msg": str(exc)}
        name = str(first["loc"][0]).upper() if first.get("loc") else "?"
        raise ConfigError(f"{name}: {first['msg']}") from None
