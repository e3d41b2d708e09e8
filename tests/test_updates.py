"""Updates of different people run side by side; one person's stay in the order they came."""

from __future__ import annotations

import asyncio
import random

from telegram import CallbackQuery, Update, User

from bot.updates import PerPersonOrder


def press(update_id: int, person: int) -> Update:
    user = User(id=person, first_name=f"P{person}", is_bot=False)
    return Update(update_id, callback_query=CallbackQuery(str(update_id), user, "chat"))


async def test_each_persons_updates_run_in_order_and_people_run_side_by_side() -> None:
    processor = PerPersonOrder(at_once=4)
    rng = random.Random(7)  # noqa: S311 - varying delays, not secrets
    handled: dict[int, list[int]] = {}
    running = 0
    most = 0

    async def handle(update: Update) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(rng.random() * 0.01)  # database and Bot API work of varying length
        assert update.effective_user is not None
        handled.setdefault(update.effective_user.id, []).append(update.update_id)
        running -= 1

    updates = [press(n, person=n % 5) for n in range(200)]
    # As the application does: one task per update, started in arrival order.
    tasks = [asyncio.create_task(processor.process_update(u, handle(u))) for u in updates]
    await asyncio.gather(*tasks)

    for person, ids in handled.items():
        assert ids == [n for n in range(200) if n % 5 == person]
    assert most == 4  # five people, at most four at once
    assert processor._turns == {}  # nothing is kept per person afterwards


async def test_one_person_pressing_fast_never_overlaps_themselves() -> None:
    processor = PerPersonOrder(at_once=8)
    inside = 0
    overlapped = False

    async def handle() -> None:
        nonlocal inside, overlapped
        inside += 1
        overlapped |= inside > 1
        await asyncio.sleep(0.001)
        inside -= 1

    await asyncio.gather(
        *(asyncio.create_task(processor.process_update(press(n, 1), handle())) for n in range(30))
    )
    assert not overlapped
