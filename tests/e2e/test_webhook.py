"""Webhook mode: the secret is checked, an update is acknowledged once handled and handled once,
and two instances against one PostgreSQL behave as one bot."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, insert, select
from telegram import Update

from bot import journal
from bot.app import build_application, tick
from bot.cli import main
from bot.clock import FakeClock
from bot.config import WebhookSettings, load_settings
from bot.sandbox import Person as ChatPerson
from bot.sandbox import Sandbox
from bot.webhook import MAX_ATTEMPTS, SECRET_HEADER, WebhookServer, prune_processed
from flows import account
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import Answer, Checkin, OutboxMessage, OutboxStatus, ProcessedUpdate
from tests.conftest import data_key
from tests.e2e.conftest import snapshot, staff_invite_code
from tests.e2e.test_delivery import NOON, TOKEN, people_in, received, seed

SECRET = "geheim_Secret-42_" + "0123456789abcdef" * 2  # 48 characters
PUBLIC_URL = "https://samenopvoeden.example/telegram"
START_REPLY = "alleen meedoen met een uitnodiging"
APOLOGY = "Sorry, er ging bij mij iets mis"
CONTACT = "🤝 Elkaar gezien"

requires_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two instances share one PostgreSQL (set TEST_DATABASE_URL)",
)
Middleware = Callable[[web.Request, Callable[[web.Request], Awaitable[web.StreamResponse]]], Any]


class InFlight:
    """Counts updates being handled by any instance, so the sandbox settles exactly."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.running = 0
        self.handled: Counter[str] = Counter()
        sandbox.busy = lambda: self.running > 0

    def track(self, server: WebhookServer, name: str) -> None:
        original = server.application.process_update

        async def process_update(update: object) -> None:
            self.running += 1
            self.handled[name] += 1
            try:
                await original(update)
            finally:
                self.running -= 1

        server.application.process_update = process_update  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def instance(
    sandbox: Sandbox,
    db: Database,
    clock: FakeClock,
    *,
    middlewares: tuple[Middleware, ...] = (),
    **options: Any,
) -> AsyncIterator[WebhookServer]:
    """One bot instance in webhook mode on a free local port; the test moves the clock.

    Instances started one after the other here are not the race of test_webhook_fleet.py: the
    sandbox takes their setWebhook calls without Telegram's one-a-second limit.
    """
    sandbox.api.set_webhook_interval = 0.0
    application = build_application(
        token=sandbox.token,
        db=db,
        route=RouteSettings(),
        base_url=sandbox.base_url,
        clock=clock,
        clock_jobs=False,
        updater=False,
        **options,
    )
    settings = WebhookSettings(url=PUBLIC_URL, secret=SECRET, listen="127.0.0.1", port=0)
    server = WebhookServer(application, settings, clock_jobs=False)
    server.app.middlewares.extend(middlewares)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def server(sandbox: Sandbox, db: Database, clock: FakeClock) -> AsyncIterator[WebhookServer]:
    async with instance(sandbox, db, clock) as running:
        InFlight(sandbox).track(running, "a")
        sandbox.set_webhook_targets([running.local_url])  # the proxy in front of it
        yield running
    assert sandbox.bot_errors == [], "the bot made calls Telegram would refuse"


def queue_without_delivery(sandbox: Sandbox, person: ChatPerson, text: str) -> dict[str, Any]:
    """The update of a message the person types; the test posts it itself."""
    queued = sandbox.api.person_message(sandbox.api.chats[person.user_id], text=text)
    sandbox.api.updates.remove(queued)  # no await since queueing: the sandbox never saw it
    return queued.payload


async def post(
    url: str, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, str]:
    secret = {SECRET_HEADER: SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=payload, headers=secret if headers is None else headers) as response,
    ):
        return response.status, await response.text()


async def processed_ids(db: Database) -> list[int]:
    async with db.session() as session:
        return list(await session.scalars(select(ProcessedUpdate.update_id)))


# --- One instance ------------------------------------------------------------------------------


async def test_a_wrong_or_missing_secret_gets_403_and_changes_nothing(
    server: WebhookServer, sandbox: Sandbox, db: Database
) -> None:
    sanne = sandbox.person(5, "Sanne")
    payload = queue_without_delivery(sandbox, sanne, "/start")
    before = await snapshot(db)
    for headers in (
        {},
        {SECRET_HEADER: ""},
        {SECRET_HEADER: "raden"},
        {SECRET_HEADER: SECRET[:-1]},
        {SECRET_HEADER: SECRET + "x"},
    ):
        assert (await post(server.local_url, payload, headers))[0] == 403
    assert await snapshot(db) == before
    assert sandbox.calls_to("sendMessage") == []
    assert sanne.bot_messages == []

    # Telegram sends the secret given to setWebhook, with the update types we asked for.
    info = await server.application.bot.get_webhook_info()
    assert info.url == PUBLIC_URL
    assert set(info.allowed_updates or ()) == set(Update.ALL_TYPES)
    [reply] = await sanne.send("/start")
    assert START_REPLY in reply.text
    assert len(await processed_ids(db)) == 1


async def test_the_same_update_posted_twice_is_handled_once(
    server: WebhookServer, sandbox: Sandbox, db: Database
) -> None:
    sanne = sandbox.person(5, "Sanne")
    start = queue_without_delivery(sandbox, sanne, "/start")
    assert await post(server.local_url, start) == (200, "ok")
    assert await post(server.local_url, start) == (200, "already handled")
    [reply] = sanne.bot_messages
    assert START_REPLY in reply.text

    # Delivered again at the same moment (Telegram retried a slow one): still one answer.
    privacy = queue_without_delivery(sandbox, sanne, "/privacy")
    results = await asyncio.gather(*(post(server.local_url, privacy) for _ in range(3)))
    assert [status for status, _ in results] == [200, 200, 200]
    assert sorted(text for _, text in results) == ["already handled", "already handled", "ok"]
    assert len(sanne.bot_messages) == 2
    assert sorted(await processed_ids(db)) == [start["update_id"], privacy["update_id"]]


async def test_the_record_is_part_of_the_handlers_transaction(
    server: WebhookServer, sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    """A delivery waits for one still being handled elsewhere and then changes nothing."""
    if db.is_sqlite:
        pytest.skip("two instances need PostgreSQL; on SQLite the transactions take turns")
    sanne = sandbox.person(5, "Sanne")
    for other_commits in (True, False):
        payload = queue_without_delivery(sandbox, sanne, "/start")
        async with db.engine.connect() as other:
            # Another instance is handling this update: its transaction holds the record.
            transaction = await other.begin()
            await other.execute(
                insert(ProcessedUpdate).values(
                    update_id=payload["update_id"], processed_at=clock.now()
                )
            )
            delivery = asyncio.create_task(post(server.local_url, payload))
            await asyncio.sleep(0.5)
            assert not delivery.done(), "the delivery should wait for the other transaction"
            await (transaction.commit() if other_commits else transaction.rollback())
            status, text = await delivery
        assert status == 200
        if other_commits:  # the other one handled it: nothing more to do here
            assert text == "already handled"
            assert sanne.bot_messages == []
        else:  # the other one failed: this delivery handles it
            assert text == "ok"
            assert START_REPLY in sanne.last.text
    assert len(await processed_ids(db)) == 2


async def test_a_failed_update_gets_500_until_handled_and_a_hopeless_one_is_given_up(
    server: WebhookServer, sandbox: Sandbox, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sanne = sandbox.person(5, "Sanne")
    real_help = account.help_for
    failures = {"left": 1}

    async def flaky_help(*args: Any) -> Any:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("the database went away")
        return await real_help(*args)

    monkeypatch.setattr(account, "help_for", flaky_help)
    flaky = queue_without_delivery(sandbox, sanne, "/help")
    assert (await post(server.local_url, flaky))[0] == 500  # rolled back: deliver it again
    assert await processed_ids(db) == []
    assert await post(server.local_url, flaky) == (200, "ok")
    assert [APOLOGY in m.text for m in sanne.bot_messages] == [True, False]

    failures["left"] = MAX_ATTEMPTS + 1  # a bug: this update can never be handled
    hopeless = queue_without_delivery(sandbox, sanne, "/help")
    statuses = [(await post(server.local_url, hopeless))[0] for _ in range(MAX_ATTEMPTS - 1)]
    assert statuses == [500] * (MAX_ATTEMPTS - 1)
    assert await post(server.local_url, hopeless) == (200, "given up")
    assert await post(server.local_url, hopeless) == (200, "already handled")
    assert sorted(await processed_ids(db)) == [flaky["update_id"], hopeless["update_id"]]


async def test_a_reply_that_fails_after_the_commit_is_sent_by_the_redelivery(
    server: WebhookServer, sandbox: Sandbox, db: Database
) -> None:
    """Telegram refuses the reply: the step is stored once, the reply kept and sent next time."""
    sanne = sandbox.person(5, "Sanne")
    sandbox.inject("sendMessage", "500", times=1)
    payload = queue_without_delivery(sandbox, sanne, "/start")
    assert (await post(server.local_url, payload))[0] == 500  # Telegram: deliver it again
    assert sanne.bot_messages == []  # and no apology: the answer is on its way
    assert await post(server.local_url, payload) == (200, "already handled")
    [reply] = sanne.bot_messages
    assert START_REPLY in reply.text
    assert await post(server.local_url, payload) == (200, "already handled")
    assert len(sanne.bot_messages) == 1
    assert await processed_ids(db) == [payload["update_id"]]
    assert sandbox.stats.faults["500"] == 1


async def test_replies_that_can_never_be_sent_are_given_up(
    server: WebhookServer, sandbox: Sandbox, db: Database
) -> None:
    sanne = sandbox.person(5, "Sanne")
    sandbox.inject("sendMessage", "500", times=MAX_ATTEMPTS)
    payload = queue_without_delivery(sandbox, sanne, "/start")
    statuses = [(await post(server.local_url, payload))[0] for _ in range(MAX_ATTEMPTS - 1)]
    assert statuses == [500] * (MAX_ATTEMPTS - 1)
    assert await post(server.local_url, payload) == (200, "given up")
    assert await post(server.local_url, payload) == (200, "already handled")
    assert sanne.bot_messages == []
    async with db.session() as session:
        [record] = await session.scalars(select(ProcessedUpdate))
    assert record.replies is None


async def test_healthz_answers_200_only_while_the_database_answers(
    server: WebhookServer, sandbox: Sandbox, clock: FakeClock, tmp_path: Path
) -> None:
    health = f"http://127.0.0.1:{server.port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(health) as response:
        assert (response.status, await response.text()) == (200, "ok")

    unreachable = Database(f"sqlite:///{tmp_path / 'missing' / 'bot.db'}")
    try:
        async with instance(sandbox, unreachable, clock) as broken:
            url = f"http://127.0.0.1:{broken.port}/healthz"
            async with aiohttp.ClientSession() as http, http.get(url) as response:
                assert response.status == 503
    finally:
        await unreachable.dispose()


async def test_old_update_ids_are_pruned(db: Database, clock: FakeClock) -> None:
    now = clock.now()
    async with db.session() as session:
        await session.execute(
            insert(ProcessedUpdate),
            [
                {"update_id": 1, "processed_at": now - dt.timedelta(days=8)},
                {"update_id": 2, "processed_at": now - dt.timedelta(days=7, seconds=1)},
                {"update_id": 3, "processed_at": now - dt.timedelta(days=6)},
                {"update_id": 4, "processed_at": now},
            ],
        )
    assert await prune_processed(db, now) == 2
    assert sorted(await processed_ids(db)) == [3, 4]


async def test_replies_kept_for_a_redelivery_are_cleared_after_a_day(
    db: Database, clock: FakeClock
) -> None:
    now, kept = clock.now(), {"language": "nl", "messages": []}
    async with db.session() as session:
        await session.execute(
            insert(ProcessedUpdate),
            [
                {"update_id": 1, "processed_at": now - dt.timedelta(hours=25), "replies": kept},
                {"update_id": 2, "processed_at": now - dt.timedelta(hours=23), "replies": kept},
            ],
        )
    assert await prune_processed(db, now) == 0
    async with db.session() as session:
        rows = await session.execute(select(ProcessedUpdate.update_id, ProcessedUpdate.replies))
        assert sorted(tuple(row) for row in rows) == [(1, None), (2, kept)]


# --- The command line --------------------------------------------------------------------------


def test_webhook_mode_needs_url_and_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("SAMENOPVOEDEN_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("SAMENOPVOEDEN_WEBHOOK_SECRET", raising=False)
    assert main(["run", "--webhook"]) == 2
    error = capsys.readouterr().err
    assert "SAMENOPVOEDEN_WEBHOOK_URL and SAMENOPVOEDEN_WEBHOOK_SECRET" in error
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_URL", PUBLIC_URL)
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_SECRET", "geen spaties!")
    assert main(["run", "--webhook"]) == 2
    assert "SAMENOPVOEDEN_WEBHOOK_SECRET" in capsys.readouterr().err


@pytest.mark.parametrize("length", [1, 16, 31])
def test_a_short_webhook_secret_is_refused_with_how_to_make_one(
    length: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_URL", PUBLIC_URL)
    short = ("Zq9_" * 8)[:length]
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_SECRET", short)
    assert main(["run", "--webhook"]) == 2
    error = capsys.readouterr().err
    assert "SAMENOPVOEDEN_WEBHOOK_SECRET" in error
    assert "32-256" in error
    assert "openssl rand -hex 32" in error
    assert length < 16 or short not in error  # the secret is not echoed
    assert not (tmp_path / "cli.db").exists()  # refused before anything started


def test_a_32_character_webhook_secret_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = load_settings(
        SAMENOPVOEDEN_WEBHOOK_URL=PUBLIC_URL, SAMENOPVOEDEN_WEBHOOK_SECRET="f" * 32
    )
    assert settings.require_webhook().secret == "f" * 32


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_webhook_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    async with Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        sandbox.set_webhook_targets([f"http://127.0.0.1:{port}/telegram"])
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": sandbox.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "SAMENOPVOEDEN_WEBHOOK_URL": PUBLIC_URL,
            "SAMENOPVOEDEN_WEBHOOK_SECRET": SECRET,
            "SAMENOPVOEDEN_WEBHOOK_LISTEN": "127.0.0.1",
            "SAMENOPVOEDEN_WEBHOOK_PORT": str(port),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot", "run", "--webhook"),
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            [reply] = await sandbox.person(5, "Sanne").send("/start", timeout=30)
            assert START_REPLY in reply.text
            health = f"http://127.0.0.1:{port}/healthz"
            async with aiohttp.ClientSession() as http, http.get(health) as response:
                assert response.status == 200
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = (await process.stdout.read()).decode() if process.stdout else ""
        assert code == 0, output
        [set_webhook] = sandbox.calls_to("setWebhook")
        assert set_webhook.params["url"] == PUBLIC_URL
        assert set_webhook.params["secret_token"] == SECRET
        assert sandbox.bot_errors == [], output


# --- Two instances, one PostgreSQL -------------------------------------------------------------


def lose_every_nth_acknowledgement(nth: int) -> Middleware:
    """Handle the update, then answer 500 anyway: as if the instance died before its 200."""
    seen = 0

    @web.middleware
    async def middleware(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        nonlocal seen
        response = await handler(request)
        if request.method == "POST" and response.status == 200:
            seen += 1
            if seen % nth == 0:
                return web.Response(status=500)
        return response

    return middleware


@contextlib.asynccontextmanager
async def two_instances(
    sandbox: Sandbox, db: Database, clock: FakeClock, **options: Any
) -> AsyncIterator[tuple[WebhookServer, WebhookServer, InFlight]]:
    """Instances a and b, each with its own engine, behind a round-robin 'proxy'."""
    second = Database(db.url, data_key=data_key(db.url))
    inflight = InFlight(sandbox)
    try:
        async with (
            instance(sandbox, db, clock, messages_per_second=500) as a,
            instance(sandbox, second, clock, messages_per_second=500, **options) as b,
        ):
            inflight.track(a, "a")
            inflight.track(b, "b")
            sandbox.set_webhook_targets([a.local_url, b.local_url])
            yield a, b, inflight
    finally:
        await second.dispose()
    assert sandbox.bot_errors == [], "the bot made calls Telegram would refuse"


@requires_postgres
async def test_two_instances_store_every_answer_of_300_people_once(
    sandbox: Sandbox, db: Database
) -> None:
    count, nth = 300, 25
    clock = FakeClock(NOON)
    seeded = await seed(db, count, now=NOON)
    people_in(sandbox, seeded)
    lossy = lose_every_nth_acknowledgement(nth)
    async with two_instances(sandbox, db, clock, middlewares=(lossy,)) as (a, _, inflight):
        assert (await tick(a.application)).sent == count  # everyone's check-in arrives
        for chat in seeded.chats:
            question = sandbox.person(chat, "?").last
            button = question.find_button(CONTACT)
            assert button is not None
            sandbox.api.person_click(
                sandbox.api.chats[chat], question, button["callback_data"], CONTACT
            )
        sandbox.notify()
        await sandbox.settle(timeout=60)

    # Instance b "died" before acknowledging every 25th update it handled; Telegram delivered
    # those again, to a, which saw they were handled and did nothing.
    assert sandbox.stats.webhook_failures == inflight.handled["b"] // nth >= 5
    assert inflight.handled["a"] + inflight.handled["b"] == count
    assert min(inflight.handled.values()) >= count // 2 - count // nth
    async with db.session() as session:
        answers = list(
            await session.scalars(select(Answer).where(Answer.question_id == "contact"))
        )
        recorded = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
    assert len(answers) == count
    assert len({answer.checkin_id for answer in answers}) == count
    assert {answer.value for answer in answers} == {"gesproken"}
    assert recorded == count
    for chat in seeded.chats:
        question, follow_up = sandbox.person(chat, "?").bot_messages  # one answer each
        assert f"Jouw antwoord: {CONTACT}" in question.text
        assert "2/5" in follow_up.text
    assert sandbox.unanswered_callback_queries == []


@requires_postgres
async def test_two_instances_fanning_out_500_check_ins_send_each_once(
    sandbox: Sandbox, db: Database
) -> None:
    count = 500
    clock = FakeClock(NOON)
    seeded = await seed(db, count, now=NOON)
    people_in(sandbox, seeded)
    async with two_instances(sandbox, db, clock) as (a, b, _):
        first = await asyncio.gather(tick(a.application), tick(b.application))
        clock.set(NOON + dt.timedelta(minutes=1))
        again = await asyncio.gather(tick(a.application), tick(b.application))

    # One instance delivers at a time (bot/outbox/turn.py): the other may send nothing.
    assert sum(report.sent for report in first) == count
    assert sum(report.sent for report in again) == 0
    assert received(sandbox, seeded.chats) == Counter(dict.fromkeys(seeded.chats, 1))
    async with db.session() as session:
        checkins = await session.scalar(select(func.count()).select_from(Checkin))
        statuses = Counter(await session.scalars(select(OutboxMessage.status)))
    assert checkins == count
    assert statuses == Counter({OutboxStatus.SENT: count})


async def test_a_press_whose_replies_failed_is_made_good_by_the_redelivery_without_apology(
    sandbox: Sandbox, db: Database, clock: FakeClock
) -> None:
    """Telegram refused a reply of a press: the next delivery sends the replies and answers the
    press again; Telegram's refusal of that second answer is no error to the person."""
    agree = "✅ Ja, ik doe mee"
    code = await staff_invite_code(db, clock)
    async with instance(sandbox, db, clock) as server:
        sandbox.set_webhook_targets([server.local_url])
        bea = sandbox.person(1001, "Bea")
        await bea.send(f"/start {code}")
        question = bea.last
        button = question.find_button(agree)
        assert button is not None
        queued = sandbox.api.person_click(
            sandbox.api.chats[1001], question, button["callback_data"], agree
        )
        sandbox.api.updates.remove(queued)
        sandbox.inject("sendMessage", "500", times=1)
        assert (await post(server.local_url, queued.payload))[0] == 500
        assert [m.text for m in bea.bot_messages] == [question.text]  # no apology
        assert sandbox.unanswered_callback_queries == []  # the spinner stopped
        assert await post(server.local_url, queued.payload) == (200, "already handled")
        texts = [m.text for m in bea.bot_messages]
        assert len(texts) == len(set(texts)) > 1
        assert not any(APOLOGY in text for text in texts)
        assert await post(server.local_url, queued.payload) == (200, "already handled")
        assert [m.text for m in bea.bot_messages] == texts
    # What Telegram refused: the second answer, and taking off buttons that were gone already.
    refused = sorted(call.method for call in sandbox.bot_errors)
    assert refused == ["answerCallbackQuery", "editMessageReplyMarkup"], sandbox.bot_errors


async def test_a_redelivery_sends_only_the_replies_that_did_not_go_out(
    sandbox: Sandbox, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first of two new messages went out, the second was refused: the next delivery sends
    the second only."""
    agree = "✅ Ja, ik doe mee"
    code = await staff_invite_code(db, clock)
    real_sent = journal.Progress.sent

    async def refuse_after_the_first(self: journal.Progress, count: int, *, last: bool) -> None:
        await real_sent(self, count, last=last)
        if count == 1 and not last:
            sandbox.inject("sendMessage", "500", times=1)

    monkeypatch.setattr(journal.Progress, "sent", refuse_after_the_first)
    async with instance(sandbox, db, clock) as server:
        sandbox.set_webhook_targets([server.local_url])
        bea = sandbox.person(1001, "Bea")
        await bea.send(f"/start {code}")
        question = bea.last
        button = question.find_button(agree)
        assert button is not None
        queued = sandbox.api.person_click(
            sandbox.api.chats[1001], question, button["callback_data"], agree
        )
        sandbox.api.updates.remove(queued)
        assert (await post(server.local_url, queued.payload))[0] == 500
        first = [m.text for m in bea.bot_messages]
        assert len(first) == 2  # the question, and the first reply
        assert await post(server.local_url, queued.payload) == (200, "already handled")
        texts = [m.text for m in bea.bot_messages]
        assert texts[:2] == first
        assert len(texts) == len(set(texts)) == 3
        assert not any(APOLOGY in text for text in texts)
