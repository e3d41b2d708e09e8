"""Webhook mode as an operator runs it: real `samenopvoeden run --webhook` processes against the
sandbox, started together, handed the same press at once, killed between commit and reply
(issue #15, "webhook faults")."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.journal import KILL_AFTER_COMMIT, LEASE_SECONDS
from bot.sandbox import Person as ChatPerson
from bot.sandbox import Sandbox
from storage.db import Database
from storage.models import ProcessedUpdate, StaffMember
from tests.conftest import data_key_env
from tests.e2e.conftest import staff_invite_code
from tests.e2e.test_webhook import APOLOGY, PUBLIC_URL, SECRET, START_REPLY, free_port, post

ROOT = Path(__file__).resolve().parents[2]  # this worktree: the code under test
TOKEN = "123456:SANDBOX-TOKEN-FOR-A-FLEET"
AGREE = "✅ Ja, ik doe mee"
WELCOME = "Welkom"
FIRST = 1001
NAMES = ("Bep", "Bo", "Brit")

requires_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="instances that share the processed updates need one PostgreSQL (TEST_DATABASE_URL)",
)


@dataclass
class Instance:
    name: str
    port: int
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    async def output(self) -> str:
        if self.process.returncode is None or self.process.stdout is None:
            return ""
        return (await self.process.stdout.read()).decode(errors="replace")


async def spawn(sandbox: Sandbox, database_url: str, name: str, **env: str) -> Instance:
    port = free_port()
    environment = {
        **os.environ,
        **data_key_env(database_url),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": sandbox.base_url,
        "DATABASE_URL": database_url,
        "SAMENOPVOEDEN_WEBHOOK_URL": PUBLIC_URL,
        "SAMENOPVOEDEN_WEBHOOK_SECRET": SECRET,
        "SAMENOPVOEDEN_WEBHOOK_LISTEN": "127.0.0.1",
        "SAMENOPVOEDEN_WEBHOOK_PORT": str(port),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "run", "--webhook"),
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return Instance(name, port, process)


async def ready(instance: Instance, within: float = 30.0) -> None:
    """Wait until the instance answers /healthz (it listens before it sets the webhook)."""
    health = f"http://127.0.0.1:{instance.port}/healthz"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            if instance.process.returncode is not None:
                raise AssertionError(
                    f"instance {instance.name} exited with {instance.process.returncode}:\n"
                    + await instance.output()
                )
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(health) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError(f"instance {instance.name} did not come up in {within} s")


async def stop(instance: Instance) -> int:
    if instance.process.returncode is None:
        instance.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(instance.process.wait(), timeout=20)
        except TimeoutError:
            instance.process.kill()
            await instance.process.wait()
    code = instance.process.returncode
    assert code is not None
    return code


@contextlib.asynccontextmanager
async def fleet(
    sandbox: Sandbox, urls: list[str], envs: list[dict[str, str]] | None = None
) -> AsyncIterator[list[Instance]]:
    """Instances started at the same moment; stopped (SIGTERM) at the end, if still running."""
    envs = envs or [{} for _ in urls]
    instances = list(
        await asyncio.gather(
            *(
                spawn(sandbox, url, name, **env)
                for name, url, env in zip("abc", urls, envs, strict=False)
            )
        )
    )
    try:
        await asyncio.gather(*(ready(instance) for instance in instances))
        yield instances
    finally:
        for instance in instances:
            if instance.process.returncode is None:
                instance.process.kill()
                await instance.process.wait()


# --- 1. The second instance to start ----------------------------------------------------------


async def test_two_instances_started_at_the_same_moment_both_run_and_serve(
    db: Database, tmp_path: Path
) -> None:
    """Telegram answers the second setWebhook with 429: that instance waits and sets it again."""
    async with Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        # Telegram's limit is about one setWebhook a second; a wider window here makes sure the
        # two calls fall in it however the processes' start-up times differ on a busy machine.
        sandbox.api.set_webhook_interval = 3.0
        if db.is_sqlite:  # one SQLite per instance: what matters here is Telegram's answer
            urls = [f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"]
        else:
            urls = [db.url] * 2
        async with fleet(sandbox, urls) as instances:
            loop = asyncio.get_running_loop()
            both_set = await sandbox.wait_for(
                lambda: sum(call.ok for call in sandbox.calls_to("setWebhook")) >= 2,
                loop.time() + 20,
            )
            outputs = [await i.output() for i in instances]
            assert both_set, outputs
            assert all(i.process.returncode is None for i in instances), outputs
            refused = [call for call in sandbox.calls_to("setWebhook") if call.error_code == 429]
            accepted = [call for call in sandbox.calls_to("setWebhook") if call.ok]
            assert len(refused) >= 1, "the race did not happen: both calls were accepted"
            assert len(accepted) == 2  # each instance set it, one after waiting
            for user_id, instance in enumerate(instances, start=5):
                person = sandbox.person(user_id, "Sanne")
                sandbox.set_webhook_targets([instance.url])  # the proxy picks this one
                [reply] = await person.send("/start", timeout=30)
                assert START_REPLY in reply.text
            codes = [await stop(instance) for instance in instances]
        assert codes == [0, 0], [await i.output() for i in instances]
        assert [call for call in sandbox.bot_errors if call.method != "setWebhook"] == []


# --- 2. The same press at two instances at once -----------------------------------------------


async def invited(
    sandbox: Sandbox, db: Database, user_id: int
) -> tuple[ChatPerson, dict[str, Any]]:
    """A begeleider opened her invite; the update of her pressing 'yes' (not yet delivered)."""
    name = "Bea" if user_id == FIRST else NAMES[user_id % len(NAMES)]
    code = await staff_invite_code(db, FakeClock(dt.datetime.now(dt.UTC)), name=name)
    bea = sandbox.person(user_id, name)
    await bea.send(f"/start {code}", timeout=30)
    question = bea.last
    button = question.find_button(AGREE)
    assert button is not None
    queued = sandbox.api.person_click(
        sandbox.api.chats[user_id], question, button["callback_data"], AGREE
    )
    sandbox.api.updates.remove(queued)  # the test delivers it, as Telegram would
    return bea, queued.payload


async def staff_rows(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(StaffMember)) or 0)


async def kept_replies(db: Database) -> list[Any]:
    async with db.session() as session:
        return list(await session.scalars(select(ProcessedUpdate.replies)))


@requires_postgres
async def test_a_press_posted_to_two_instances_at_once_is_answered_once_without_apology(
    db: Database,
) -> None:
    async with Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        sandbox.api.set_webhook_interval = 0.0  # not what this test is about
        async with fleet(sandbox, [db.url] * 2) as (a, b):
            sandbox.set_webhook_targets([a.url])
            for round_, user_id in enumerate((1001, 1002, 1003)):
                bea, press = await invited(sandbox, db, user_id)
                before = len(bea.bot_messages)
                results = await asyncio.gather(post(a.url, press), post(b.url, press))
                assert sorted(results) == [(200, "already handled"), (200, "ok")]
                assert await staff_rows(db) == round_ + 1
                texts = [m.text for m in bea.bot_messages]
                assert not any(APOLOGY in text for text in texts), texts
                assert sum(WELCOME in text for text in texts) == 1, texts
                assert len(texts) == len(set(texts)) > before  # nothing twice
            assert sandbox.unanswered_callback_queries == []
            assert [call for call in sandbox.bot_errors] == []
            assert await kept_replies(db) == [None] * 6
            assert [await stop(a), await stop(b)] == [0, 0]


# --- 3. Killed between the commit and the reply -----------------------------------------------


@requires_postgres
async def test_an_instance_killed_after_the_commit_leaves_its_replies_to_the_redelivery(
    db: Database,
) -> None:
    async with Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        sandbox.api.set_webhook_interval = 0.0
        doomed = {KILL_AFTER_COMMIT: "1", LEASE_SECONDS: "1"}
        async with fleet(sandbox, [db.url] * 2, [doomed, {}]) as (a, b):
            sandbox.set_webhook_targets([b.url])  # a dies at its first commit: keep it for this
            bea, press = await invited(sandbox, db, 1001)
            before = [m.text for m in bea.bot_messages]
            with pytest.raises(aiohttp.ClientError):
                await post(a.url, press)  # a commits, then SIGKILLs itself: no answer
            assert await a.process.wait() == -signal.SIGKILL
            assert [m.text for m in bea.bot_messages] == before  # nothing reached Bea
            assert await staff_rows(db) == 1  # but her 'yes' is stored
            assert await kept_replies(db) != [None, None]

            # Telegram got no 200 and delivers the press again, to b.
            assert await post(b.url, press) == (200, "already handled")
            texts = [m.text for m in bea.bot_messages]
            assert sum(WELCOME in text for text in texts) == 1, texts
            assert not any(APOLOGY in text for text in texts), texts
            assert bea.bot_messages[0].find_button(AGREE) is None  # its buttons went
            assert sandbox.unanswered_callback_queries == []
            assert await post(b.url, press) == (200, "already handled")  # and once only
            assert [m.text for m in bea.bot_messages] == texts
            assert await staff_rows(db) == 1
            assert await kept_replies(db) == [None, None]
            assert sandbox.bot_errors == []
            assert await stop(b) == 0
