"""Webhook delivery, long polling and the sandbox lifecycle."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import Conflict, RetryAfter

from bot.sandbox import Sandbox


@dataclass
class Receiver:
    """A webhook target: records posts, answers with scripted statuses, may reply."""

    name: str
    statuses: list[int] = field(default_factory=list)
    posts: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    on_update: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None
    url: str = ""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.posts.append((update, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200 and self.on_update is not None:
            # Answer 200 first, like PTB's webhook handler, then let the "bot" react.
            task = asyncio.ensure_future(self.on_update(self.name, update))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return web.Response(status=status)


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    made = [Receiver("A"), Receiver("B")]
    runners = []
    for receiver in made:
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        runners.append(runner)
    yield made
    for runner in runners:
        await runner.cleanup()


async def test_webhook_secret_retry_and_conflict(
    sandbox: Sandbox, bot: Bot, receivers: list[Receiver]
) -> None:
    target = receivers[0]
    target.statuses = [500]
    await bot.set_webhook(target.url, secret_token="geheim-1")
    bea = sandbox.person(1001, "Bea")
    await bea.send("hoi", expect_reply=False)
    assert [(u["message"]["text"], secret) for u, secret in target.posts] == [
        ("hoi", "geheim-1"),
        ("hoi", "geheim-1"),
    ]
    assert sandbox.stats.webhook_failures == 1
    assert sandbox.stats.updates_delivered == 1
    info = await bot.get_webhook_info()
    assert info.url == target.url
    assert info.pending_update_count == 0
    assert info.last_error_message is not None
    assert "500" in info.last_error_message
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_round_robin_targets_like_two_instances(
    sandbox: Sandbox, bot: Bot, receivers: list[Receiver]
) -> None:
    async def reply(name: str, update: dict[str, Any]) -> None:
        message = update["message"]
        await bot.send_message(message["chat"]["id"], f"{name}: {message['text']}")

    for receiver in receivers:
        receiver.on_update = reply
    sandbox.set_webhook_targets([r.url for r in receivers])
    await bot.set_webhook("https://samenopvoeden.example/telegram")
    bea = sandbox.person(1001, "Bea")
    answers = [(await bea.send(text))[0].text for text in ("een", "twee", "drie", "vier")]
    assert answers == ["A: een", "B: twee", "A: drie", "B: vier"]
    assert sandbox.bot_errors == []


async def test_no_delivery_without_webhook(sandbox: Sandbox, receivers: list[Receiver]) -> None:
    sandbox.set_webhook_targets([receivers[0].url])
    with pytest.raises(AssertionError, match="did not fetch"):
        await sandbox.person(1, "Een").send("hallo", timeout=0.3)
    assert receivers[0].posts == []


async def test_offset_confirms_updates(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.person(1001, "Bea")
    for text in ("een", "twee"):  # queued directly: nobody polls while we queue
        sandbox.api.person_message(sandbox.api.chats[1001], text=text)
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["een", "twee"]
    again = await bot.get_updates(timeout=0)
    assert len(again) == 2  # not confirmed yet
    confirmed = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert confirmed == ()


async def test_long_poll_waits_for_updates(sandbox: Sandbox, bot: Bot) -> None:
    bea = sandbox.person(1001, "Bea")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.monotonic()
    await bea.send("wakker?", expect_reply=False)
    updates = await poll
    assert time.monotonic() - started < 1
    assert updates[0].message is not None
    assert updates[0].message.text == "wakker?"


async def test_second_poller_conflicts(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}{sandbox.token}/getUpdates"
    async with httpx.AsyncClient(timeout=10) as one, httpx.AsyncClient(timeout=10) as two:
        first = asyncio.create_task(one.get(url, params={"timeout": 5}))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(two.get(url, params={"timeout": 0}))
        answer = await asyncio.wait_for(first, 2)
        assert answer.status_code == 409
        assert "terminated by other getUpdates request" in answer.json()["description"]
        assert (await second).json() == {"ok": True, "result": []}


async def test_stop_releases_a_pending_long_poll() -> None:
    sandbox = Sandbox()
    await sandbox.start()
    url = f"{sandbox.base_url}{sandbox.token}/getUpdates"
    async with httpx.AsyncClient(timeout=30) as client:
        poll = asyncio.create_task(client.get(url, params={"timeout": 30}))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await sandbox.stop()
        response = await asyncio.wait_for(poll, 2)
        assert time.monotonic() - started < 1.5
    assert response.json() == {"ok": True, "result": []}
    with pytest.raises(RuntimeError, match="not started"):
        _ = sandbox.base_url


async def test_a_second_set_webhook_within_the_interval_gets_429_like_telegram(
    sandbox: Sandbox, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta, as the bot
    sandbox.api.set_webhook_interval = 0.5
    assert await bot.set_webhook("https://example.org/hook")
    with pytest.raises(RetryAfter):
        await bot.set_webhook("https://example.org/hook")
    assert sandbox.calls_to("setWebhook")[-1].description == "Too Many Requests: retry after 1"
    await asyncio.sleep(0.5)
    assert await bot.set_webhook("https://example.org/other")
    assert (await bot.get_webhook_info()).url == "https://example.org/other"
