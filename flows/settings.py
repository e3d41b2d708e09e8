"""Settings of the route that flows need; plain values handed in by the transport."""

from __future__ import annotations

from dataclasses import dataclass

# Bump when the privacy notice text changes in a way people must agree to again.
PRIVACY_NOTICE_VERSION = "2026-11"


@dataclass(frozen=True)
class RouteSettings:
    default_timezone: str = "Europe/Amsterdam"
    invite_valid_days: int = 14
    retention_days: int = 365
    # Days a delivered (or failed, dropped) outbox row keeps its payload: rendered text, names,
    # quoted answers, chart images. Key, status, times and Telegram's message id stay as proof.
    outbox_keep_days: int = 7
    notice_version: str = PRIVACY_NOTICE_VERSION
