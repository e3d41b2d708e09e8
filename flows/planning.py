"""Planning in pages: the clock's planners go through people a page at a time.

Each page is its own transaction and loads only the columns it needs, so the planner's memory does
not grow with the number of participants, and a big week (thousands of check-ins) never holds
the database for long: on SQLite there is one writer, and the handlers must get their turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database

PAGE_SIZE = 500


@dataclass(frozen=True)
class Page:
    queued: int  # messages put in the outbox
    last_id: int | None  # continue after this id; None when this was the last page


PagePlanner = Callable[[AsyncSession, int], Awaitable[Page]]


def page_of(ids: Sequence[int], size: int, queued: int) -> Page:
    """A page that goes on after its last id only when it was full."""
    return Page(queued, ids[-1] if ids and len(ids) >= size else None)


async def in_pages(db: Database, planner: PagePlanner) -> int:
    """Run a planner page by page (each page committed); return the messages queued."""
    queued, after = 0, 0
    while True:
        async with db.session() as session:
            page = await planner(session, after)
        queued += page.queued
        if page.last_id is None:
            return queued
        after = page.last_id
