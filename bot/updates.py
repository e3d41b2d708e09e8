"""Handling updates of different people at the same time, each person's in the order they came.

python-telegram-bot handles one update at a time by default: with real Telegram every update
then waits for the previous person's database work and two Bot API round trips. Its
`concurrent_updates` runs them side by side but in no particular order, and one person's presses
must stay in order (a changed answer after the first one, not before). So: a lock per person,
taken before anything else, in the order the updates arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import BaseUpdateProcessor

CONCURRENT_UPDATES = 16
UNLIMITED = 1_000_000


@dataclass
class _Turn:
    lock: asyncio.Lock
    waiting: int = 0


class PerPersonOrder(BaseUpdateProcessor):
    """Up to `at_once` updates at the same time; one at a time, in arrival order, per person."""

    def __init__(self, at_once: int = CONCURRENT_UPDATES) -> None:
        # The base class's own limit is taken before `do_process_update` and would let updates
        # pass it in any order; so it is set out of reach and ours is taken after the turn.
        super().__init__(UNLIMITED)
        self._slots = asyncio.Semaphore(at_once)
        self._turns: dict[int, _Turn] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        # The application starts one task per update in arrival order, and nothing before this
        # line waits, so each person's lock is queued for in that order (asyncio.Lock is first
        # come, first served). Waiting for one's turn holds no slot.
        key = _person_of(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        turn = self._turns.setdefault(key, _Turn(asyncio.Lock()))
        turn.waiting += 1
        try:
            async with turn.lock, self._slots:
                await coroutine
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:  # nothing is kept per person once their updates are done
                del self._turns[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _person_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None
