"""Runtime settings, read from the environment (and an optional `.env`).

`get_settings()` builds them once per process; nothing reads the environment at import
time, so tests and the service bootstrap can set variables before the first call.

Precedence: the process environment, then `.env` (in the working directory), then
`.run/services.env` (the servers `core.services` found or started). The trading mode and the
live confirmation are read from the process environment only: a file that sets them is an
error, so no `.env` lying in some directory can switch a process to live.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# psycopg 3 is the driver SQLAlchemy 2.1 picks for postgresql://; every accepted form of a
# PostgreSQL URL is rewritten to name it, so no other driver is ever asked for.
POSTGRES_SCHEME = "postgresql+psycopg"
DEFAULT_DATABASE_URL = f"{POSTGRES_SCHEME}://postgres@localhost:5432/perpbot"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
# What hosted PostgreSQL services and compose files give, plus the psycopg2 form older
# perpbot .env and .run/services.env files hold (same server, same URL, other driver name).
_POSTGRES_SCHEMES = ("postgresql", "postgres", POSTGRES_SCHEME, "postgresql+psycopg2")


def redact_url(value: str) -> str:
    """`value` with its password (in the user part or a `password=` parameter) as `***`."""
    try:
        parts = urlsplit(value)
        has_password = parts.password is not None
    except ValueError:
        return "<unparseable URL>"
    if has_password:
        userinfo = parts.netloc.rpartition("@")[0]
        value = value.replace(f"{userinfo}@", f"{userinfo.partition(':')[0]}:***@", 1)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", value)


def _check_url(
    value: str, schemes: tuple[str, ...], what: str, shown: tuple[str, ...] | None = None
) -> str:
    """`value` if it is a URL with one of `schemes` and a host; `shown` are the ones to name."""
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(f"is not a {what} URL (got {redact_url(value)!r})") from None
    if parts.scheme.lower() not in schemes:
        allowed = ", ".join(f"{s}://" for s in shown or schemes)
        raise ValueError(
            f"must be a {what} URL starting with {allowed} (got {redact_url(value)!r})"
        )
    if not (parts.hostname or "host=" in parts.query):
        raise ValueError(f"has no host (got {redact_url(value)!r})")
    return value


def normalize_database_url(value: str) -> str:
    """The PostgreSQL URL `value` in the one form perpbot connects with (`postgresql+psycopg://`).

    Accepts `postgresql://`, `postgres://`, `postgresql+psycopg://` (and the older
    `postgresql+psycopg2://`); anything else is a `ValueError` that shows the URL with its
    password redacted.
    """
    _check_url(value, _POSTGRES_SCHEMES, "PostgreSQL", shown=_POSTGRES_SCHEMES[:3])
    return f"{POSTGRES_SCHEME}:{value.partition(':')[2]}"


# The live confirmation is this exact phrase, so that no `1`, `y` or `true` left in an
# environment (or typed by habit) can start a process that trades real money.
LIVE_CONFIRM_PHRASE = "I understand perpbot will trade real money"
# Read from the process environment only, never from `.env` or `.run/services.env`.
ENVIRONMENT_ONLY = ("PERPBOT_MODE", "PERPBOT_LIVE_CONFIRM")
SERVICES_ENV_FILE = PROJECT_ROOT / ".run" / "services.env"
DOTENV_FILE = ".env"


class _FilesWithoutLiveSwitches(PydanticBaseSettingsSource):
    """The env files' values; a file that sets the mode or the confirmation is an error."""

    def __init__(self, settings_cls: type[BaseSettings], files: DotEnvSettingsSource) -> None:
        super().__init__(settings_cls)
        self._files = files

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:
        return None, field_name, False  # __call__ delegates whole to the files' source

    def __call__(self) -> dict[str, object]:
        found = [name for name in ENVIRONMENT_ONLY if name.lower() in self._files.env_vars]
        if found:
            raise ConfigError(
                f"{', '.join(found)} found in {DOTENV_FILE} or {SERVICES_ENV_FILE}: the mode "
                "and the live confirmation are read from the process environment only "
                "(export them where the process starts); remove them from the file"
            )
        return self._files()


class Settings(BaseSettings):
    """Every setting of a perpbot process. Environment names are given per field."""

    model_config = SettingsConfigDict(
        # services.env is written by core.services: the servers it found or started. It
        # comes first so that a `.env` (and the environment) always win over it.
        env_file=(SERVICES_ENV_FILE, DOTENV_FILE),
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # URLs may carry passwords: kept out of repr, shown only through redact_url.
    database_url: str = Field(
        DEFAULT_DATABASE_URL, validation_alias=AliasChoices("DATABASE_URL"), repr=False
    )
    redis_url: str = Field(
        DEFAULT_REDIS_URL, validation_alias=AliasChoices("REDIS_URL"), repr=False
    )
    broker_url: str | None = Field(
        None, validation_alias=AliasChoices("CELERY_BROKER_URL"), repr=False
    )
    result_backend: str | None = Field(
        None, validation_alias=AliasChoices("CELERY_RESULT_BACKEND"), repr=False
    )
    # Prefix for every broker key: lets several test runs share one Redis safely.
    broker_key_prefix: str = Field("", validation_alias=AliasChoices("PERPBOT_BROKER_PREFIX"))
    # paper: simulated venues on a scenario; dry-run: simulated venues on the real venues'
    # market data (read-only); live: real venues (also needs the confirmation phrase).
    mode: Literal["paper", "dry-run", "live"] = Field(
        "paper", validation_alias=AliasChoices("PERPBOT_MODE")
    )
    # Live trading needs this second, explicit switch as well as mode=live: the exact phrase.
    live_confirm: str | None = Field(None, validation_alias=AliasChoices("PERPBOT_LIVE_CONFIRM"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=AliasChoices("PERPBOT_LOG_LEVEL")
    )
    strategies_path: Path = Field(
        PROJECT_ROOT / "configs" / "strategies",
        validation_alias=AliasChoices("PERPBOT_STRATEGIES"),
    )
    run_dir: Path = Field(PROJECT_ROOT / ".run", validation_alias=AliasChoices("PERPBOT_RUN_DIR"))
    # Where `trading_bot.py backtest` writes <run_id>/report.json and report.html (and the
    # dashboard reads them); None: <run_dir>/backtests.
    backtest_dir: Path | None = Field(None, validation_alias=AliasChoices("PERPBOT_BACKTEST_DIR"))
    # Simulated clock shared by every process of a demo: sim = origin + (real - start) * speed.
    clock_speed: float = Field(1.0, gt=0, validation_alias=AliasChoices("PERPBOT_CLOCK_SPEED"))
    clock_origin: str | None = Field(None, validation_alias=AliasChoices("PERPBOT_CLOCK_ORIGIN"))
    clock_real_start: float | None = Field(
        None, validation_alias=AliasChoices("PERPBOT_CLOCK_REAL_START")
    )
    task_soft_time_limit: int = Field(
        240, gt=0, validation_alias=AliasChoices("PERPBOT_TASK_SOFT_TIME_LIMIT")
    )
    task_time_limit: int = Field(
        300, gt=0, validation_alias=AliasChoices("PERPBOT_TASK_TIME_LIMIT")
    )
    funding_collect_seconds: float = Field(
        60.0, gt=0, validation_alias=AliasChoices("PERPBOT_FUNDING_COLLECT_SECONDS")
    )
    transfers_sweep_seconds: float = Field(
        30.0, gt=0, validation_alias=AliasChoices("PERPBOT_TRANSFERS_SWEEP_SECONDS")
    )
    flower_user: str = Field("perpbot", validation_alias=AliasChoices("FLOWER_USER"))
    flower_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FLOWER_PASSWORD")
    )
    # Celery message signing (the `auth` serializer): all three paths, or none.
    signing_key: Path | None = Field(None, validation_alias=AliasChoices("PERPBOT_SIGNING_KEY"))
    signing_key_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("PERPBOT_SIGNING_KEY_PASSWORD")
    )
    signing_cert: Path | None = Field(None, validation_alias=AliasChoices("PERPBOT_SIGNING_CERT"))
    signing_cert_store: Path | None = Field(
        None, validation_alias=AliasChoices("PERPBOT_SIGNING_CERT_STORE")
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(dotenv_settings, DotEnvSettingsSource)
        files = _FilesWithoutLiveSwitches(settings_cls, dotenv_settings)
        return init_settings, env_settings, files, file_secret_settings

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return _check_url(value, ("redis", "rediss"), "Redis")

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _check_url(value, ("redis", "rediss", "amqp", "pyamqp"), "broker")

    @field_validator("live_confirm")
    @classmethod
    def _live_confirm(cls, value: str | None) -> str | None:
        if not value:  # unset, or set empty (as compose passes an unset variable on)
            return None
        if value == LIVE_CONFIRM_PHRASE:
            return value
        shown = value if len(value) <= 20 else f"{value[:20]}..."
        raise ValueError(
            f'must be exactly "{LIVE_CONFIRM_PHRASE}" to trade real money, or unset '
            f"(got {shown!r}; a 1, y, on or true is not a confirmation)"
        )

    @field_validator("flower_password", "signing_key_password", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        # An unset compose variable arrives as an empty string: no password, not "".
        return None if value == "" else value

    @field_validator("signing_key", "signing_cert", "signing_cert_store")
    @classmethod
    def _signing_path(cls, value: Path | None) -> Path | None:
        if value is not None and not value.exists():
            raise ValueError(f"{value} does not exist")
        return value

    @model_validator(mode="after")
    def _limits(self) -> Settings:
        if self.task_soft_time_limit >= self.task_time_limit:
            raise ValueError("PERPBOT_TASK_SOFT_TIME_LIMIT must be below PERPBOT_TASK_TIME_LIMIT")
        return self

    @model_validator(mode="after")
    def _signing_complete(self) -> Settings:
        paths = {
            "PERPBOT_SIGNING_KEY": self.signing_key,
            "PERPBOT_SIGNING_CERT": self.signing_cert,
            "PERPBOT_SIGNING_CERT_STORE": self.signing_cert_store,
        }
        missing = [name for name, path in paths.items() if path is None]
        if 0 < len(missing) < len(paths):
            raise ValueError(f"message signing needs all three paths: set {', '.join(missing)}")
        return self

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    @property
    def celery_result_backend(self) -> str:
        return self.result_backend or self.redis_url

    @property
    def backtests_path(self) -> Path:
        return self.backtest_dir if self.backtest_dir is not None else self.run_dir / "backtests"

    @property
    def is_live(self) -> bool:
        return self.mode == "live" and self.live_confirm == LIVE_CONFIRM_PHRASE

    @property
    def deployment_mode(self) -> str:
        """The mode this process trades in, which its database must have recorded.

        `PERPBOT_MODE=live` without the confirmation trades on paper venues, so it is paper.
        """
        return "live" if self.is_live else "paper"

    @property
    def signs_messages(self) -> bool:
        return self.signing_key is not None

    @property
    def is_dry_run(self) -> bool:
        return self.mode == "dry-run"


# Field name -> the environment variable a user sets, for error messages.
_ENV_NAMES = {
    name: str(field.validation_alias.choices[0])
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, AliasChoices)
}


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = item["loc"]
        field = str(loc[0]) if loc else ""
        name = _ENV_NAMES.get(field, field.upper()) if field else "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}")
    return "; ".join(lines)


def configured_value(name: str) -> str | None:
    """`name` as the operator set it: the process environment, else `.env`; never the
    `.run/services.env` that `core.services` writes (so it can never override either)."""
    value = os.environ.get(name)
    if value:
        return value
    files = DotEnvSettingsSource(Settings, env_file=DOTENV_FILE, case_sensitive=False)
    return files.env_vars.get(name.lower()) or None


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment; raise `ConfigError` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {_describe(exc)}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return load_settings()
