"""One person's quick presses spread over three webhook instances (real processes) on one
PostgreSQL: handled one after the other, and the last press wins, whatever the arrival order."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.sandbox import Sandbox
from bot.turns import WINDOW, prune_turns, take_turn
from bot.webhook import SECRET_HEADER
from storage.db import Database
from storage.models import Answer, PersonTurn, ProcessedUpdate
from tests.conftest import data_key_env
from tests.e2e.test_delivery import TOKEN, seed_due_a_minute_ago
from tests.e2e.test_webhook import PUBLIC_URL, SECRET, free_port

UTC = dt.UTC
INSTANCES = 3
PRESSES = 20
ROOT = Path(__file__).resolve().parents[2]  # the worktree whose code the processes run

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="instances share one PostgreSQL; SQLite runs one instance (set TEST_DATABASE_URL)",
)


@contextlib.asynccontextmanager
async def instances(
    sandbox: Sandbox, db_url: str, folder: Path
) -> AsyncIterator[list[tuple[str, asyncio.subprocess.Process]]]:
    """`samenopvoeden run --webhook` three times, each on its own port; yields (url, process)."""
    started: list[tuple[str, asyncio.subprocess.Process, Path]] = []
    try:
        for n in range(INSTANCES):
            port = free_port()
            log = folder / f"bot{n}.log"
            env = {
                **os.environ,
                **data_key_env(db_url),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": sandbox.base_url,
                "DATABASE_URL": db_url,
                "SAMENOPVOEDEN_WEBHOOK_URL": PUBLIC_URL,
                "SAMENOPVOEDEN_WEBHOOK_SECRET": SECRET,
                "SAMENOPVOEDEN_WEBHOOK_LISTEN": "127.0.0.1",
                "SAMENOPVOEDEN_WEBHOOK_PORT": str(port),
            }
            with log.open("wb") as out:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    *("-m", "bot", "run", "--webhook"),
                    env=env,
                    cwd=ROOT,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                )
            started.append((f"http://127.0.0.1:{port}/telegram", process, log))
        for url, process, log in started:
            await healthy(url.replace("/telegram", "/healthz"), process, log)
        yield [(url, process) for url, process, _ in started]
    finally:
        for _, process, _ in started:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for _, process, _ in started:
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def healthy(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert process.returncode is None, tail(log)
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not come up: {tail(log)}")


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def wait_for(condition: object, what: str, within: float = 60.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_twenty_quick_presses_over_three_instances_the_last_one_wins(
    db: Database, tmp_path: Path
) -> None:
    async with Sandbox(token=TOKEN, quiet_period=0.1, flood_limits=False) as sandbox:
        # Three instances set the webhook at once: Telegram's 429 to the second and third (and
        # their retry) is tests/e2e/test_webhook_fleet.py's story, not this one's.
        sandbox.api.set_webhook_interval = 0
        seeded = await seed_due_a_minute_ago(db, sandbox, 1, dt.datetime.now(UTC))
        [chat] = seeded.chats
        person = sandbox.person(chat, "?")
        async with instances(sandbox, db.url, tmp_path) as running:
            # The instances' own clocks plan the check-in and one of them sends it.
            await wait_for(lambda: len(person.bot_messages) == 1, "the check-in arrived")
            question = person.bot_messages[0]
            choices = [(label, data) for row in question.buttons for label, data in row]
            answers = [(label, data) for label, data in choices if data and data.count(":") == 3]
            assert len(answers) >= 3, choices
            # Presses 1-19 go round the first answers; the 20th is the one answer none of
            # them chose, so only it can be the last word.
            *earlier, (last_label, last_data) = answers
            presses = [earlier[n % len(earlier)] for n in range(PRESSES - 1)]
            presses.append((last_label, last_data))
            # Telegram numbers them in the order the person pressed (the sandbox as well).
            updates = []
            for label, data in presses:
                assert data is not None
                queued = sandbox.api.person_click(sandbox.api.chats[chat], question, data, label)
                sandbox.api.updates.remove(queued)  # posted by this test, not the sandbox
                updates.append(queued.payload)
            ids = [update["update_id"] for update in updates]
            assert ids == sorted(ids)

            # All at once, round robin over the instances; the newest is sent off first, so
            # on arrival order alone an older press would overwrite it.
            async with aiohttp.ClientSession() as http:

                async def post(n: int) -> int:
                    url = running[n % INSTANCES][0]
                    async with http.post(
                        url, json=updates[n], headers={SECRET_HEADER: SECRET}
                    ) as response:
                        return response.status

                statuses = await asyncio.gather(*(post(n) for n in reversed(range(PRESSES))))
            assert statuses == [200] * PRESSES
            await sandbox.settle(timeout=30)
            assert all(process.returncode is None for _, process in running)

        # What is stored: one answer to the first question, the 20th press's.
        async with db.session() as session:
            stored = list(await session.execute(select(Answer.question_id, Answer.value)))
            recorded = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
            turn = await session.scalar(
                select(PersonTurn.last_update_id).where(PersonTurn.telegram_user_id == chat)
            )
        assert len(stored) == 1, stored
        assert last_data.endswith(f":{stored[0][1]}"), (stored, last_data)
        assert recorded == PRESSES
        assert turn == ids[-1]

        # What the person sees: every press answered, no error; the question shows the 20th
        # press's answer and the next question came once.
        answered = [c.params["callback_query_id"] for c in sandbox.calls_to("answerCallbackQuery")]
        assert sorted(answered) == sorted(u["callback_query"]["id"] for u in updates)
        assert sandbox.bot_errors == []
        assert sandbox.unanswered_callback_queries == []
        first, *rest = person.bot_messages
        assert f"Jouw antwoord: {last_label}" in first.text, first.text
        assert len(rest) == 1, [m.text for m in rest]
        assert "2/5" in rest[0].text


async def test_a_late_update_is_told_apart_from_a_newer_one(db: Database) -> None:
    now = dt.datetime(2026, 3, 5, 11, 0, tzinfo=UTC)

    async def turn(user: int, update_id: int, message_id: int | None, at: dt.datetime) -> bool:
        async with db.session() as session:
            return await take_turn(session, user, update_id, message_id, at)

    assert await turn(7, 100, 50, now)  # the first
    assert await turn(7, 102, 50, now)  # newer
    assert not await turn(7, 101, 50, now)  # late, on the message 102 pressed: changes nothing
    assert await turn(7, 101, 51, now)  # late, but on another message: still handled
    assert await turn(7, 99, None, now)  # late typed text: never dropped
    assert await turn(8, 1, 50, now)  # someone else: their own turn
    # A day later the ids may have started again (Telegram after a week without updates).
    assert await turn(7, 5, 50, now + WINDOW + dt.timedelta(seconds=1))
    async with db.session() as session:
        assert await prune_turns(session, now + 2 * WINDOW) == 1  # 8; 7 wrote since
        assert await prune_turns(session, now + 3 * WINDOW) == 1
