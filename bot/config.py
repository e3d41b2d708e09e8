"""Configuration from environment variables (and an optional .env), checked at start."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.updates import CONCURRENT_UPDATES
from flows.settings import RouteSettings
from storage.crypto import DataKeyError, parse_keys
from storage.db import async_url


class ConfigError(Exception):
    """The configuration is wrong; the message says what to change."""


# Telegram's alphabet for setWebhook's secret_token; at least 32 characters, so it cannot be
# guessed (Telegram itself allows 1-256).
_SECRET = re.compile(r"[A-Za-z0-9_-]{32,256}")
_SECRET_RULE = "must be 32-256 characters of A-Z, a-z, 0-9, _ and -; " + (
    "make one with `openssl rand -hex 32`"
)


@dataclass(frozen=True)
class WebhookSettings:
    """Where Telegram posts updates (public URL) and where this process listens for them."""

    url: str
    secret: str
    listen: str
    port: int


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str | None = Field(None, alias="TELEGRAM_API_BASE_URL")
    telegram_bot_username: str = Field("samenopvoeden_bot", alias="TELEGRAM_BOT_USERNAME")
    database_url: str = Field("sqlite:///samenopvoeden.db", alias="DATABASE_URL")
    timezone: str = Field("Europe/Amsterdam", alias="SAMENOPVOEDEN_TIMEZONE")
    invite_valid_days: int = Field(14, alias="SAMENOPVOEDEN_INVITE_DAYS", ge=1, le=90)
    retention_days: int = Field(365, alias="SAMENOPVOEDEN_RETENTION_DAYS", ge=30)
    outbox_keep_days: int = Field(7, alias="SAMENOPVOEDEN_OUTBOX_KEEP_DAYS", ge=1, le=90)
    messages_per_second: float = Field(
        30.0, alias="SAMENOPVOEDEN_MESSAGES_PER_SECOND", gt=0, le=1000
    )
    updates_at_once: int = Field(
        CONCURRENT_UPDATES, alias="SAMENOPVOEDEN_UPDATES_AT_ONCE", ge=1, le=256
    )
    webhook_url: str | None = Field(None, alias="SAMENOPVOEDEN_WEBHOOK_URL")
    webhook_listen: str = Field(
        "0.0.0.0",  # noqa: S104 - in a container the proxy reaches us on the container's address
        alias="SAMENOPVOEDEN_WEBHOOK_LISTEN",
    )
    webhook_port: int = Field(8080, alias="SAMENOPVOEDEN_WEBHOOK_PORT", ge=1, le=65535)
    webhook_secret: SecretStr | None = Field(None, alias="SAMENOPVOEDEN_WEBHOOK_SECRET")
    # Encrypts typed answers and meeting places (storage/crypto.py); "new,old" while rotating.
    data_key: SecretStr | None = Field(None, alias="SAMENOPVOEDEN_DATA_KEY")

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d+:[\w-]{20,}", value.get_secret_value()):
            raise ValueError("looks wrong: a token from @BotFather looks like 123456:ABC-def...")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://", value):
            raise ValueError("must start with http:// or https://, e.g. http://127.0.0.1:8081/bot")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^\s/]+", value):
            raise ValueError("must be the public URL, e.g. https://bot.example.org/telegram")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(_SECRET_RULE)
        return value

    @field_validator("data_key")
    @classmethod
    def _data_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            try:
                parse_keys(value.get_secret_value())
            except DataKeyError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        async_url(value)  # raises ValueError for unsupported databases
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}, e.g. Europe/Amsterdam") from error
        return value

    def require_token(self) -> str:
        if self.telegram_bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Get one from @BotFather, or try "
                "`samenopvoeden demo`, which needs no token."
            )
        return self.telegram_bot_token.get_secret_value()

    def require_webhook(self) -> WebhookSettings:
        missing = [
            name
            for name, value in (
                ("SAMENOPVOEDEN_WEBHOOK_URL", self.webhook_url),
                ("SAMENOPVOEDEN_WEBHOOK_SECRET", self.webhook_secret),
            )
            if value is None
        ]
        if missing:
            raise ConfigError(
                f"webhook mode needs {' and '.join(missing)}: the public https URL Telegram "
                "posts to, and a secret of 32-256 characters A-Z, a-z, 0-9, _ and - "
                "(make one with `openssl rand -hex 32`)."
            )
        assert self.webhook_url is not None  # checked above
        assert self.webhook_secret is not None
        return WebhookSettings(
            url=self.webhook_url,
            secret=self.webhook_secret.get_secret_value(),
            listen=self.webhook_listen,
            port=self.webhook_port,
        )

    def key(self) -> str | None:
        """The data key from the environment, or None (see storage.db.resolve_keyring)."""
        if self.data_key is None or not self.data_key.get_secret_value().strip():
            return None
        return self.data_key.get_secret_value()

    def route(self) -> RouteSettings:
        return RouteSettings(
            default_timezone=self.timezone,
            invite_valid_days=self.invite_valid_days,
            retention_days=self.retention_days,
            outbox_keep_days=self.outbox_keep_days,
        )


def load_settings(**overrides: object) -> Settings:
    """Read the settings; turn validation errors into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # aliases are typed loosely
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"])
            lines.append(f"  {name}: {problem['msg']}")
        raise ConfigError("Configuration problem:\n" + "\n".join(lines)) from None
