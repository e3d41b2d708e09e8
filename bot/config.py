"""Configuration from environment variables (and an optional .env), checked at start."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Self, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.updates import CONCURRENT_UPDATES
from flows.route import CHECKIN_MOMENT, DIGEST_MOMENT
from flows.settings import CheckinRules, MeetingRules, QuietHours, RouteSettings, SignalSettings
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


_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
# Quiet hours leave at least this much of the day for check-ins, reminders and digests.
_MAX_QUIET = dt.timedelta(hours=16)


def _clock_time(text: str, example: str) -> dt.time:
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"must be a time as HH:MM, e.g. {example}")
    return dt.time(int(match[1]), int(match[2]))


def _minutes(at: dt.time) -> int:
    return at.hour * 60 + at.minute


def parse_quiet_hours(text: str) -> QuietHours:
    """Read `21:30-08:00` (start-end, local time; the window may cross midnight)."""
    start_text, dash, end_text = text.partition("-")
    if not dash:
        raise ValueError("must be two times as HH:MM-HH:MM, e.g. 21:30-08:00")
    start = _clock_time(start_text, "21:30-08:00")
    end = _clock_time(end_text, "21:30-08:00")
    length = dt.timedelta(minutes=(_minutes(end) - _minutes(start)) % (24 * 60))
    if length == dt.timedelta(0):
        raise ValueError("start and end are the same: quiet hours must not cover the whole day")
    if length > _MAX_QUIET:
        hours, minutes = divmod(length.seconds // 60, 60)
        raise ValueError(
            f"covers {hours}h{minutes:02d}; at most 16 hours, so the day keeps room for "
            "check-ins, reminders and digests"
        )
    quiet = QuietHours(start, end)
    defaults = [("digest", DIGEST_MOMENT[1])]
    defaults += [(f"{role} check-in", at) for role, (_, at) in CHECKIN_MOMENT.items()]
    for what, at in defaults:
        if quiet.contains(at):
            raise ValueError(f"covers the default {what} moment {at:%H:%M} of the route")
    return quiet


class AppOptions(TypedDict):
    """The settings `build_application` takes, as keyword arguments."""

    route: RouteSettings
    checkin_rules: CheckinRules
    meeting_rules: MeetingRules
    messages_per_second: float
    updates_at_once: int


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

    # The rules of the route that are settings (flows/settings.py has their meaning).
    quiet_hours: str = Field("21:30-08:00", alias="SAMENOPVOEDEN_QUIET_HOURS")
    checkin_reminder_after_hours: int = Field(
        24, alias="SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS", ge=1, le=143
    )
    # Before next week's check-in comes.
    checkin_closes_after_days: int = Field(
        4, alias="SAMENOPVOEDEN_CHECKIN_CLOSES_AFTER_DAYS", ge=1, le=6
    )
    checkin_send_late_days: int = Field(
        2, alias="SAMENOPVOEDEN_CHECKIN_SEND_LATE_DAYS", ge=0, le=6
    )
    meeting_reminder_days_before: int = Field(
        2, alias="SAMENOPVOEDEN_MEETING_REMINDER_DAYS_BEFORE", ge=1, le=14
    )
    meeting_reminder_at: str = Field("18:00", alias="SAMENOPVOEDEN_MEETING_REMINDER_AT")
    meeting_reminder_hours_before: int = Field(
        2, alias="SAMENOPVOEDEN_MEETING_REMINDER_HOURS_BEFORE", ge=1, le=48
    )
    route_meeting_warning_weeks: int = Field(
        3, alias="SAMENOPVOEDEN_ROUTE_MEETING_WARNING_WEEKS", ge=1, le=12
    )
    questionnaire_days_before: int = Field(
        7, alias="SAMENOPVOEDEN_QUESTIONNAIRE_DAYS_BEFORE", ge=1, le=28
    )
    signal_low_score: int = Field(2, alias="SAMENOPVOEDEN_SIGNAL_LOW_SCORE", ge=1, le=4)
    signal_drop: float = Field(1.5, alias="SAMENOPVOEDEN_SIGNAL_DROP", gt=0, le=4)
    signal_drop_window: int = Field(4, alias="SAMENOPVOEDEN_SIGNAL_DROP_WINDOW", ge=1, le=26)
    signal_drop_min_weeks: int = Field(2, alias="SAMENOPVOEDEN_SIGNAL_DROP_MIN_WEEKS", ge=1, le=26)
    signal_gap: float = Field(2.0, alias="SAMENOPVOEDEN_SIGNAL_GAP", gt=0, le=4)
    signal_no_contact_weeks: int = Field(
        3, alias="SAMENOPVOEDEN_SIGNAL_NO_CONTACT_WEEKS", ge=1, le=26
    )
    signal_silent_weeks: int = Field(2, alias="SAMENOPVOEDEN_SIGNAL_SILENT_WEEKS", ge=1, le=26)
    signal_tension_score: int = Field(3, alias="SAMENOPVOEDEN_SIGNAL_TENSION_SCORE", ge=1, le=4)
    signal_tension_weeks: int = Field(2, alias="SAMENOPVOEDEN_SIGNAL_TENSION_WEEKS", ge=1, le=26)
    signal_tension_window: int = Field(4, alias="SAMENOPVOEDEN_SIGNAL_TENSION_WINDOW", ge=1, le=26)
    signal_stalling_count: int = Field(2, alias="SAMENOPVOEDEN_SIGNAL_STALLING_COUNT", ge=1, le=8)

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

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_shape(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("meeting_reminder_at")
    @classmethod
    def _reminder_at_shape(cls, value: str) -> str:
        _clock_time(value, "18:00")
        return value

    @model_validator(mode="after")
    def _rules_fit_together(self) -> Self:
        def alias(name: str) -> str:
            return str(type(self).model_fields[name].alias)

        problems = []
        if self.checkin_reminder_after_hours >= 24 * self.checkin_closes_after_days:
            problems.append(
                f"{alias('checkin_reminder_after_hours')}: the reminder must come before the "
                f"check-in closes ({alias('checkin_closes_after_days')})"
            )
        if self.checkin_send_late_days > self.checkin_closes_after_days:
            problems.append(
                f"{alias('checkin_send_late_days')}: a check-in sent late must still be open "
                f"(at most {alias('checkin_closes_after_days')})"
            )
        if self.meeting_reminder_hours_before >= 24 * self.meeting_reminder_days_before:
            problems.append(
                f"{alias('meeting_reminder_hours_before')}: the last reminder must come after "
                f"the first ({alias('meeting_reminder_days_before')})"
            )
        for weeks, window in (
            ("signal_drop_min_weeks", "signal_drop_window"),
            ("signal_tension_weeks", "signal_tension_window"),
        ):
            if getattr(self, weeks) > getattr(self, window):
                problems.append(f"{alias(weeks)}: must not be more than {alias(window)}")
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

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
            signals=self.signal_settings(),
        )

    def checkin_rules(self) -> CheckinRules:
        return CheckinRules(
            reminder_after=dt.timedelta(hours=self.checkin_reminder_after_hours),
            closes_after=dt.timedelta(days=self.checkin_closes_after_days),
            send_late_until=dt.timedelta(days=self.checkin_send_late_days),
            quiet=parse_quiet_hours(self.quiet_hours),
        )

    def meeting_rules(self) -> MeetingRules:
        return MeetingRules(
            day_before=dt.timedelta(days=self.meeting_reminder_days_before),
            day_before_at=_clock_time(self.meeting_reminder_at, "18:00"),
            shortly_before=dt.timedelta(hours=self.meeting_reminder_hours_before),
            route_warning=dt.timedelta(weeks=self.route_meeting_warning_weeks),
            questionnaire_ahead=dt.timedelta(days=self.questionnaire_days_before),
        )

    def signal_settings(self) -> SignalSettings:
        return SignalSettings(
            low_score=self.signal_low_score,
            drop=self.signal_drop,
            drop_window=self.signal_drop_window,
            drop_min_weeks=self.signal_drop_min_weeks,
            gap=self.signal_gap,
            no_contact_weeks=self.signal_no_contact_weeks,
            silent_weeks=self.signal_silent_weeks,
            tension_score=self.signal_tension_score,
            tension_weeks=self.signal_tension_weeks,
            tension_window=self.signal_tension_window,
            stalling_signals=self.signal_stalling_count,
        )

    def application_options(self) -> AppOptions:
        """Everything `build_application` takes from the configuration."""
        return AppOptions(
            route=self.route(),
            checkin_rules=self.checkin_rules(),
            meeting_rules=self.meeting_rules(),
            messages_per_second=self.messages_per_second,
            updates_at_once=self.updates_at_once,
        )


def load_settings(**overrides: object) -> Settings:
    """Read the settings; turn validation errors into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # aliases are typed loosely
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"])
            # pydantic says "Value error, ..." before the message of our own validators.
            message = str(problem["msg"]).removeprefix("Value error, ")
            # Rules that check several settings together name them in their message.
            lines += [f"{name}: {message}" if name else message]
        if len(lines) == 1 and "\n" not in lines[0]:
            raise ConfigError(lines[0]) from None  # one wrong value: one line
        raise ConfigError(
            "configuration problems:\n" + "\n".join(f"  {line}" for line in lines)
        ) from None
