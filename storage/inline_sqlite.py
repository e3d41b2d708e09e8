"""SQLite on the event loop's own thread, behind aiosqlite's interface.

aiosqlite hands every call (a cursor, an execute, a fetch, the commit) to a worker thread and
waits for the answer. For the bot's small statements on a local file that hand-over costs more
than SQLite's work itself: a button press makes about twenty such calls, and without the
hand-over the bot handles nearly twice as many presses per second (benchmarks/conversation.py).
So each call runs at once instead, on the loop's thread.

What that asks of the rest (storage/db.py sees to it):
- One connection per engine (a pool of one). Calls block the loop for as long as SQLite works,
  so a second connection of the same process waiting for the write lock would block the loop
  that the lock's holder needs to finish: it would wait out the busy timeout. With one
  connection, the bot's transactions simply take turns.
- A *different process* holding the write lock (the CLI, a migration) makes a write wait, with
  the loop, up to the busy timeout; those hold it for milliseconds.

SQLAlchemy's aiosqlite dialect is used unchanged: it gets this connection from the engine's
`async_creator`. It (and aiosqlite's own close) also put work straight on the worker's queue;
`_RunAtOnce` runs that work at once as well. aiosqlite is pinned to the minor version whose
internals this was written against (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Mapping
from typing import Any

import aiosqlite


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its worker thread: run the call, settle its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the waiter, as the worker thread does
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection without its thread: every call runs at once."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect_now().__await__()  # no worker thread to start

    async def _connect_now(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> asyncio.Future[Any] | None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None


def inline_creator(database: str, connect_args: Mapping[str, Any]) -> Callable[[], Any]:
    """The engine's `async_creator`: a new inline connection to `database`."""

    async def create() -> InlineConnection:
        return await InlineConnection(lambda: sqlite3.connect(database, **connect_args))

    return create
