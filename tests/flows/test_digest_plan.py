"""The clock's digest planner: a transaction per begeleider."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.digest import weekly_parts
from bot.render import Renderer
from flows import digest_plan
from flows.digest import Digest
from flows.digest_plan import RenderedDigest
from storage.db import Database
from storage.models import OutboxMessage
from tests.seed import seed

# Monday 16 March 2026, 08:30 in Amsterdam: every begeleider's digest moment.
NOW = dt.datetime(2026, 3, 16, 7, 30, tzinfo=dt.UTC)


async def test_a_digest_that_fails_does_not_take_the_ones_before_it_along(db: Database) -> None:
    """At sector scale the planner works for minutes: the digests made before a failure (or a
    crash) stay queued and go out, and the next beat does only the rest."""
    first = await seed(db, now=NOW, placements=3, weeks=4, begeleider_user_id=11)
    second = await seed(
        db, now=NOW, placements=3, weeks=4, begeleider_user_id=12, first_user_id=200_000
    )
    renderer = Renderer()
    made: list[int] = []

    def render(language: str, digest: Digest) -> RenderedDigest:
        if made:  # the second begeleider's digest fails, as a crash would
            raise RuntimeError("the chart could not be drawn")
        made.append(1)
        return weekly_parts(renderer, language, digest)

    with pytest.raises(RuntimeError):
        await digest_plan.plan_weekly(db, render, NOW)

    async def queued_for() -> set[int]:
        async with db.session() as session:
            return set(
                await session.scalars(
                    select(OutboxMessage.person_id).where(OutboxMessage.kind == "digest")
                )
            )

    assert await queued_for() == {first.begeleider_person_id}
    # The next beat: only the second one's digest is made (the first is not built again).
    made.clear()

    def render_again(language: str, digest: Digest) -> RenderedDigest:
        made.append(1)
        return weekly_parts(renderer, language, digest)

    assert await digest_plan.plan_weekly(db, render_again, NOW) > 0
    assert made == [1]
    assert await queued_for() == {first.begeleider_person_id, second.begeleider_person_id}
