"""Settings of the route that flows need; plain values handed in by the transport.

Each has the defaults of the route; bot/config.py loads them from the environment (README:
Configuration), so they can be set without editing code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# Bump when the privacy notice text changes in a way people must agree to again.
PRIVACY_NOTICE_VERSION = "2026-11"


@dataclass(frozen=True)
class QuietHours:
    """Nothing proactive between `start` and `end` local time (the window may cross midnight)."""

    start: dt.time = dt.time(21, 30)
    end: dt.time = dt.time(8, 0)

    def contains(self, local: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class CheckinRules:
    """Timing of the weekly rhythm; settings, not constants."""

    reminder_after: dt.timedelta = dt.timedelta(hours=24)
    closes_after: dt.timedelta = dt.timedelta(days=4)
    # After downtime a check-in of this week is still sent, but not when it is this late.
    send_late_until: dt.timedelta = dt.timedelta(days=2)
    quiet: QuietHours = field(default_factory=QuietHours)


@dataclass(frozen=True)
class MeetingRules:
    """Reminder moments and the route's warning window; settings, not constants."""

    day_before: dt.timedelta = dt.timedelta(days=2)  # first reminder: 2 days before …
    day_before_at: dt.time = dt.time(18, 0)  # … at 18:00 local
    shortly_before: dt.timedelta = dt.timedelta(hours=2)
    route_warning: dt.timedelta = dt.timedelta(weeks=3)
    questionnaire_ahead: dt.timedelta = dt.timedelta(days=7)


@dataclass(frozen=True)
class SignalSettings:
    """Thresholds of the signals; scores are 1-5, higher is better."""

    low_score: int = 2  # a score at or below this is low
    drop: float = 1.5  # fall against the person's own recent mean
    drop_window: int = 4  # earlier scored weeks in that mean
    drop_min_weeks: int = 2  # fewer earlier scored weeks: no mean yet
    gap: float = 2.0  # difference between the means of both sides
    no_contact_weeks: int = 3
    silent_weeks: int = 2
    tension_score: int = 3  # stored 5 = no, 3 = a bit, 1 = yes
    tension_weeks: int = 2
    tension_window: int = 4
    stalling_signals: int = 2  # distinct concerns that together mean "dreigt vast te lopen"


@dataclass(frozen=True)
class RouteSettings:
    """Settings of the bot as a whole: zone, invites, keeping, and the signals' thresholds."""

    default_timezone: str = "Europe/Amsterdam"
    invite_valid_days: int = 14
    retention_days: int = 365
    # Days a delivered (or failed, dropped) outbox row keeps its payload: rendered text, names,
    # quoted answers, chart images. Key, status, times and Telegram's message id stay as proof.
    outbox_keep_days: int = 7
    notice_version: str = PRIVACY_NOTICE_VERSION
    # Read by the digest and /overzicht.
    signals: SignalSettings = field(default_factory=SignalSettings)
