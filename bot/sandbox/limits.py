"""Telegram-like flood limits for message sends."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FloodLimits:
    """What the sandbox allows when flood limits are on.

    - Overall: at most ``global_per_second`` sends in any sliding 1-second window.
    - Per chat: a token bucket holding at most ``per_chat_burst`` sends, refilled at
      ``per_chat_per_second`` sends per second. So with the defaults a chat may get 3
      messages at once, after which one more message per second is allowed.

    A rejected send does not count. The 429 carries ``retry_after`` = whole seconds
    (at least 1) until the send would be allowed.
    """

    global_per_second: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class FloodLimiter:
    """Applies FloodLimits; clock is injectable for tests."""

    limits: FloodLimits
    clock: Callable[[], float] = time.monotonic
    _recent: deque[float] = field(default_factory=deque)
    _buckets: dict[int, _Bucket] = field(default_factory=dict)

    def check(self, chat_id: int) -> int | None:
        """Records a send and returns None, or returns retry_after seconds if it is too much."""
        now = self.clock()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        waits: list[float] = []
        if len(self._recent) >= self.limits.global_per_second:
            waits.append(self._recent[0] + 1.0 - now)
        bucket = self._buckets.get(chat_id)
        burst = float(self.limits.per_chat_burst)
        rate = self.limits.per_chat_per_second
        if bucket is None:
            bucket = self._buckets[chat_id] = _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            waits.append((1.0 - bucket.tokens) / rate)
        if waits:
            return max(1, math.ceil(max(waits)))
        bucket.tokens -= 1.0
        self._recent.append(now)
        return None
