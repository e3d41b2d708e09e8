"""Telegram's send limits: an overall rate, one message per chat at a time, and 'retry after'."""

from __future__ import annotations

import asyncio
from collections import deque


class RateLimiter:
    """Evenly spaced sends: at most `per_second` overall and one per `per_chat` per chat.

    Spacing alone lets sends that were held up (a busy event loop) go out together; a window
    of the latest send times makes sure no second ever holds more than `per_second x margin`.
    """

    def __init__(self, per_second: float, per_chat: float = 1.0, margin: float = 0.95) -> None:
        # A small margin keeps the spacing safely under a sliding-window limit despite jitter.
        self.interval = 1.0 / (per_second * margin)
        self.per_chat = per_chat
        self._next = 0.0
        self._chat_next: dict[int, float] = {}
        self._paused_until = 0.0
        self._sent: deque[float] = deque(maxlen=max(1, int(per_second * margin)))

    async def acquire(self, chat_id: int) -> None:
        """Wait for this chat's next slot; a pause that starts meanwhile holds it too."""
        loop = asyncio.get_running_loop()
        while True:
            # No await between reading and reserving: slots are handed out atomically.
            now = loop.time()
            previous = self._chat_next.get(chat_id, 0.0)
            slot = max(now, self._next, self._paused_until, previous)
            self._next = slot + self.interval
            self._chat_next[chat_id] = slot + self.per_chat
            if len(self._chat_next) > 10_000:  # forget chats whose slot has passed
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            if slot > now:
                await asyncio.sleep(slot - now)
            now = loop.time()
            window_full = len(self._sent) == self._sent.maxlen and now - self._sent[0] < 1.0
            if self._paused_until <= now and not window_full:
                self._sent.append(now)
                return
            # Telegram said "retry after" while this send waited, or too many sends went out
            # in the last second: its slot is void, queue again (without the per-chat gap of
            # the slot it never used).
            if self._chat_next.get(chat_id) == slot + self.per_chat:
                self._chat_next[chat_id] = previous
            if window_full:
                await asyncio.sleep(self._sent[0] + 1.0 - now)

    def pause(self, seconds: float) -> None:
        """Telegram said 'retry after': hold every send, not just this one."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        # Sends after the pause are spaced from its end, not bunched up at it.
        self._next = max(self._next, self._paused_until)

    def paused_for(self) -> float:
        """Seconds until the current pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - asyncio.get_running_loop().time())
