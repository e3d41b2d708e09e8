"""The route's rules load from the environment, with today's defaults and readable refusals."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from flows.route import CHECKIN_MOMENT, DIGEST_MOMENT
from flows.settings import CheckinRules, MeetingRules, QuietHours, RouteSettings, SignalSettings
from storage.models import Role


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    for name in list(os.environ):
        if name.startswith("SAMENOPVOEDEN_"):
            monkeypatch.delenv(name)


def problem(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    return str(error.value)


def test_without_environment_the_rules_are_the_defaults_of_the_code() -> None:
    settings = load_settings()
    assert settings.checkin_rules() == CheckinRules()
    assert settings.meeting_rules() == MeetingRules()
    assert settings.signal_settings() == SignalSettings()
    assert settings.route() == RouteSettings()
    options = settings.application_options()
    assert options["checkin_rules"] == CheckinRules()
    assert options["meeting_rules"] == MeetingRules()


def test_every_rule_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SAMENOPVOEDEN_QUIET_HOURS": "22:00-07:15",
        "SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS": "30",
        "SAMENOPVOEDEN_CHECKIN_CLOSES_AFTER_DAYS": "5",
        "SAMENOPVOEDEN_CHECKIN_SEND_LATE_DAYS": "1",
        "SAMENOPVOEDEN_MEETING_REMINDER_DAYS_BEFORE": "3",
        "SAMENOPVOEDEN_MEETING_REMINDER_AT": "17:45",
        "SAMENOPVOEDEN_MEETING_REMINDER_HOURS_BEFORE": "4",
        "SAMENOPVOEDEN_ROUTE_MEETING_WARNING_WEEKS": "2",
        "SAMENOPVOEDEN_QUESTIONNAIRE_DAYS_BEFORE": "10",
        "SAMENOPVOEDEN_SIGNAL_LOW_SCORE": "3",
        "SAMENOPVOEDEN_SIGNAL_DROP": "1.0",
        "SAMENOPVOEDEN_SIGNAL_DROP_WINDOW": "6",
        "SAMENOPVOEDEN_SIGNAL_DROP_MIN_WEEKS": "3",
        "SAMENOPVOEDEN_SIGNAL_GAP": "1.5",
        "SAMENOPVOEDEN_SIGNAL_NO_CONTACT_WEEKS": "4",
        "SAMENOPVOEDEN_SIGNAL_SILENT_WEEKS": "3",
        "SAMENOPVOEDEN_SIGNAL_TENSION_SCORE": "1",
        "SAMENOPVOEDEN_SIGNAL_TENSION_WEEKS": "3",
        "SAMENOPVOEDEN_SIGNAL_TENSION_WINDOW": "5",
        "SAMENOPVOEDEN_SIGNAL_STALLING_COUNT": "3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.checkin_rules() == CheckinRules(
        reminder_after=dt.timedelta(hours=30),
        closes_after=dt.timedelta(days=5),
        send_late_until=dt.timedelta(days=1),
        quiet=QuietHours(dt.time(22, 0), dt.time(7, 15)),
    )
    assert settings.meeting_rules() == MeetingRules(
        day_before=dt.timedelta(days=3),
        day_before_at=dt.time(17, 45),
        shortly_before=dt.timedelta(hours=4),
        route_warning=dt.timedelta(weeks=2),
        questionnaire_ahead=dt.timedelta(days=10),
    )
    expected = SignalSettings(
        low_score=3,
        drop=1.0,
        drop_window=6,
        drop_min_weeks=3,
        gap=1.5,
        no_contact_weeks=4,
        silent_weeks=3,
        tension_score=1,
        tension_weeks=3,
        tension_window=5,
        stalling_signals=3,
    )
    assert settings.signal_settings() == expected
    assert settings.route().signals == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("08:00-08:00", "must not cover the whole day"),
        ("18:00-12:00", "at most 16 hours"),
        ("nacht", "HH:MM-HH:MM"),
        ("25:00-08:00", "HH:MM"),
        ("21:30", "HH:MM-HH:MM"),
    ],
)
def test_quiet_hours_that_make_no_sense_are_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    message = problem(monkeypatch, SAMENOPVOEDEN_QUIET_HOURS=value)
    assert "SAMENOPVOEDEN_QUIET_HOURS" in message
    assert reason in message


def test_quiet_hours_may_not_hide_a_default_moment_of_the_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 19:30 covers the gezinshuisouder's Sunday 20:00 check-in; 06:00-09:00 the 08:30 digest.
    assert CHECKIN_MOMENT[Role.GEZINSHUISOUDER][1] == dt.time(20, 0)
    message = problem(monkeypatch, SAMENOPVOEDEN_QUIET_HOURS="19:30-08:00")
    assert "gezinshuisouder check-in moment 20:00" in message
    assert DIGEST_MOMENT[1] == dt.time(8, 30)
    message = problem(monkeypatch, SAMENOPVOEDEN_QUIET_HOURS="06:00-09:00")
    assert "digest moment 08:30" in message


def test_a_quiet_window_within_one_day_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMENOPVOEDEN_QUIET_HOURS", "12:00-13:30")
    quiet = load_settings().checkin_rules().quiet
    assert quiet == QuietHours(dt.time(12, 0), dt.time(13, 30))
    assert quiet.contains(dt.time(12, 45))
    assert not quiet.contains(dt.time(22, 0))


def test_the_reminder_must_come_before_the_check_in_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = problem(
        monkeypatch,
        SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS="72",
        SAMENOPVOEDEN_CHECKIN_CLOSES_AFTER_DAYS="3",
    )
    assert "SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS" in message
    assert "before the check-in closes" in message
    monkeypatch.setenv("SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS", "71")
    assert load_settings().checkin_rules().reminder_after == dt.timedelta(hours=71)


def test_rules_that_must_fit_together_are_all_named(monkeypatch: pytest.MonkeyPatch) -> None:
    message = problem(
        monkeypatch,
        SAMENOPVOEDEN_CHECKIN_SEND_LATE_DAYS="5",
        SAMENOPVOEDEN_MEETING_REMINDER_DAYS_BEFORE="1",
        SAMENOPVOEDEN_MEETING_REMINDER_HOURS_BEFORE="24",
        SAMENOPVOEDEN_SIGNAL_DROP_MIN_WEEKS="5",
        SAMENOPVOEDEN_SIGNAL_TENSION_WEEKS="6",
    )
    for name in (
        "SAMENOPVOEDEN_CHECKIN_SEND_LATE_DAYS",
        "SAMENOPVOEDEN_MEETING_REMINDER_HOURS_BEFORE",
        "SAMENOPVOEDEN_SIGNAL_DROP_MIN_WEEKS",
        "SAMENOPVOEDEN_SIGNAL_TENSION_WEEKS",
    ):
        assert name in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAMENOPVOEDEN_CHECKIN_CLOSES_AFTER_DAYS", "7"),  # next week's check-in comes
        ("SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS", "0"),
        ("SAMENOPVOEDEN_MEETING_REMINDER_AT", "6 uur"),
        ("SAMENOPVOEDEN_SIGNAL_LOW_SCORE", "5"),  # every score would be low
        ("SAMENOPVOEDEN_SIGNAL_DROP", "0"),
        ("SAMENOPVOEDEN_SIGNAL_GAP", "veel"),
        ("SAMENOPVOEDEN_ROUTE_MEETING_WARNING_WEEKS", "0"),
    ],
)
def test_values_out_of_range_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    assert name in problem(monkeypatch, **{name: value})
