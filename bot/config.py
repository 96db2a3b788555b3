"""Settings: every environment variable of the contract, read once at start-up (`.env` honoured)."""

from __future__ import annotations

import importlib
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


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


class ConfigError(OperatorError):
    """A missing or bad setting: the operator fixes the environment and starts again (exit status 2)."""

    exit_code = 2


# The database URLs yakuba runs on: (backend, async driver) → what `pip install -e` installs the driver with.
# JMA's high-frequency earthquake and volcano feed (気象庁防災情報XML, eqvol), updated every minute.
JMA_EQVOL_FEED = "https://www.data.jma.go.jp/developer/xml/feed/eqvol.xml"
# JMA's seismic intensity scale as it codes it (storage.jma.Intensity reads the same codes).
JMA_INTENSITIES = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")
DATABASE_DRIVERS = {("sqlite", "aiosqlite"): ".", ("postgresql", "asyncpg"): "'.[postgres]'"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite+aiosqlite:///yakuba.db"
    port: int = Field(default=3000, ge=1, le=65535)
    yakuba_tz: str = "Asia/Tokyo"
    yakuba_lang: str = "ja"
    yakuba_organizers: str = ""
    yakuba_admin_channel: str | None = None
    yakuba_broadcast_channel: str | None = None
    # The community profile (a YAML file, see storage/community.py); empty: the built-in オンライン市役所.
    yakuba_community: str = ""
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
    # Announcements: a hard ceiling of chat.postMessage per sliding minute; below it the pacer learns the
    # workspace's real rate. 3,000 (50/s) is the fastest limit the learner was measured against (bench.announce):
    # at the old 600 a 5,000-member DM broadcast took 8 min 20 s even where Slack allowed it in 1 min 40 s.
    yakuba_announce_per_minute: int = Field(default=3000, ge=1)
    # The inbox: slash commands are answered in the ack while the server is quiet ("busy", the default) and
    # through response_url once it is busy; "always" answers every command that opens no form that way.
    yakuba_defer_commands: Literal["busy", "always"] = "busy"
    # Introductions (#18): when rounds are made, in the programmes' recurrence words and a local time (see
    # schedules/intro.py), and within how many rounds a pair is never introduced again.
    yakuba_intro_schedule: str = "every other monday 10:00"
    yakuba_intro_no_repeat: int = Field(default=6, ge=0, le=52)
    # Disaster check-ins (#17): JMA's earthquake feed (empty turns the watcher off), the lowest observed
    # intensity that opens a check-in in a prefecture's 県人会, and how long members' statuses are kept.
    yakuba_jma_feed_url: str = JMA_EQVOL_FEED
    yakuba_disaster_min_intensity: str = "5-"  # JMA's code (storage.jma.Intensity's value)
    yakuba_checkin_retention_days: int = Field(default=30, ge=1)
    # Events (#15): the second reminder goes out this many minutes before the start (the first the day before),
    # and the survey this many minutes after the end.
    yakuba_event_reminder_minutes: int = Field(default=30, ge=1, le=24 * 60)
    yakuba_event_survey_minutes: int = Field(default=15, ge=0, le=24 * 60)

    @field_validator("yakuba_lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value not in ("ja", "en"):
            raise ValueError("YAKUBA_LANG must be ja or en")
        return value

    @field_validator("yakuba_tz")
    @classmethod
    def _known_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None  # KeyError would escape pydantic's report
        return value

    @field_validator("yakuba_disaster_min_intensity", mode="before")
    @classmethod
    def _intensity(cls, value: object) -> str:
        # Operators write the scale as people do (5弱, ６強) or as JMA codes it (5-): both become JMA's code.
        word = unicodedata.normalize("NFKC", str(value)).strip().removeprefix("震度").strip()
        word = word.replace("弱", "-").replace("強", "+")
        if word not in JMA_INTENSITIES:
            raise ValueError("not a JMA seismic intensity")
        return word

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
        """Fail with one line naming every missing variable at once (not one per attempt)."""
        missing = [name.upper() for name in names if not getattr(self, name.lower())]
        if missing:
            raise ConfigError("cli.config.missing", names=", ".join(missing))

    def check_database_url(self) -> URL:
        """DATABASE_URL parsed, of a kind yakuba runs on, with its driver installed; else a ConfigError."""
        # Imported here: a configuration mistake is reported before SQLAlchemy has even loaded.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.database_url)
        except (ArgumentError, ValueError) as exc:
            raise ConfigError("cli.database.bad_url") from exc
        key = (url.get_backend_name(), url.get_driver_name())
        if key not in DATABASE_DRIVERS:
            raise ConfigError("cli.database.unsupported", scheme=url.drivername)
        try:
            importlib.import_module(url.get_driver_name())
        except ImportError as exc:
            spec = DATABASE_DRIVERS[key]
            raise ConfigError("cli.database.driver_missing", driver=url.get_driver_name(), spec=spec) from exc
        return url

    def sqlite_path(self) -> Path | None:
        """The file of a SQLite database (None for PostgreSQL or an in-memory database)."""
        url = self.check_database_url()
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)


# The variables whose value has its own explanation in the catalogue (cli.config.invalid.<name>).
EXPLAINED = ("PORT", "YAKUBA_LANG", "YAKUBA_TZ", "YAKUBA_DISASTER_MIN_INTENSITY")


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "?"
        # A value is shown only for the few variables that are never secret; a token never is.
        if name in EXPLAINED:
            value = str(first.get("input"))[:60]
            raise ConfigError(f"cli.config.invalid.{name.lower()}", name=name, value=value) from exc
        raise ConfigError("cli.config.invalid.other", name=name) from exc


class _Language(BaseSettings):
    """Only YAKUBA_LANG: the language of an error line even when other settings cannot be read."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    yakuba_lang: str = "ja"


def operator_language() -> str:
    """The language operator messages are printed in: YAKUBA_LANG when it is one we speak, else ja."""
    try:
        lang = _Language().yakuba_lang
    except (ValidationError, OSError, UnicodeDecodeError):
        return "ja"
    return lang if lang in ("ja", "en") else "ja"
