"""Fault injection and flood limits."""

import asyncio
import datetime as dtm
import random

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.sandbox import FloodLimits, Sandbox
from bot.sandbox.limits import FloodLimiter


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on int retry_after unless opted in to timedeltas.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


async def test_500_then_recovers(sandbox: Sandbox, bot: Bot) -> None:
    bea = sandbox.person(1001, "Bea", started=True)
    sandbox.inject("sendMessage", "500", times=1)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(1001, "een")
    await bot.send_message(1001, "twee")
    assert [m.text for m in bea.chat] == ["twee"]
    assert [(c.error_code, c.fault) for c in sandbox.errors] == [(500, "500")]
    assert sandbox.bot_errors == []
    assert sandbox.stats.faults["500"] == 1


async def test_injected_429_and_forbidden(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.person(1001, "Bea", started=True)
    sandbox.inject("sendmessage", "429", times=1, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1001, "een")
    assert info.value.retry_after == dtm.timedelta(seconds=3)
    sandbox.inject("sendMessage", "forbidden", times=1)
    with pytest.raises(Forbidden):
        await bot.send_message(1001, "twee")
    await bot.send_message(1001, "drie")


async def test_drop_is_a_network_error_and_nothing_arrives(sandbox: Sandbox, bot: Bot) -> None:
    bea = sandbox.person(1001, "Bea", started=True)
    sandbox.inject("sendMessage", "drop", times=1)
    with pytest.raises(NetworkError):
        await bot.send_message(1001, "kwijt")
    assert bea.chat == []
    assert sandbox.errors[0].fault == "drop"
    await bot.send_message(1001, "wel")
    assert [m.text for m in bea.chat] == ["wel"]


async def test_read_timeout_still_delivers(sandbox: Sandbox, bot: Bot) -> None:
    bea = sandbox.person(1001, "Bea", started=True)
    sandbox.inject("sendMessage", "read_timeout", times=1, delay=1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(1001, "aangekomen?", read_timeout=0.3)
    assert [m.text for m in bea.chat] == ["aangekomen?"]
    assert sandbox.calls_to("sendMessage")[0].fault is None  # processed normally
    await bot.send_message(1001, "ja")


async def test_rate_is_seeded_and_clear_faults(sandbox: Sandbox) -> None:
    sandbox.inject("getMe", "500", rate=0.5, seed=7)
    url = f"{sandbox.base_url}{sandbox.token}/getMe"
    async with httpx.AsyncClient() as client:
        codes = [(await client.get(url)).status_code for _ in range(20)]
        rng = random.Random(7)  # noqa: S311 - mirrors the seeded fault draw
        assert codes == [500 if rng.random() < 0.5 else 200 for _ in range(20)]
        sandbox.clear_faults()
        assert (await client.get(url)).status_code == 200
    with pytest.raises(ValueError, match="unknown fault"):
        sandbox.inject("getMe", "explode")


async def test_flood_limits_per_chat_burst() -> None:
    async with Sandbox(flood_limits=True) as sandbox:
        sandbox.person(1, "Een", started=True)
        sandbox.person(2, "Twee", started=True)
        async with Bot(sandbox.token, base_url=sandbox.base_url) as bot:
            for i in range(3):
                await bot.send_message(1, f"burst {i}")
            with pytest.raises(RetryAfter) as info:
                await bot.send_message(1, "te veel")
            assert info.value.retry_after == dtm.timedelta(seconds=1)
            await bot.send_message(2, "andere chat mag wel")
        assert sandbox.stats.too_many_requests == 1
        assert sandbox.errors[0].description == "Too Many Requests: retry after 1"


async def test_flood_limits_global() -> None:
    limits = FloodLimits(global_per_second=5, per_chat_per_second=10, per_chat_burst=10)
    async with Sandbox(flood_limits=limits) as sandbox:
        for uid in range(1, 7):
            sandbox.person(uid, f"P{uid}", started=True)
        async with Bot(sandbox.token, base_url=sandbox.base_url) as bot:
            for uid in range(1, 6):
                await bot.send_message(uid, "hoi")
            with pytest.raises(RetryAfter):
                await bot.send_message(6, "hoi")


async def test_flood_limits_off_by_default(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.person(1, "Een", started=True)
    for i in range(10):
        await bot.send_message(1, f"{i}")
    assert sandbox.errors == []


def test_flood_limiter_token_bucket() -> None:
    now = [100.0]
    limiter = FloodLimiter(FloodLimits(), clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(3)] == [None, None, None]
    assert limiter.check(1) == 1
    now[0] += 0.5
    assert limiter.check(1) == 1  # half a token refilled: still too early
    now[0] += 0.5
    assert limiter.check(1) is None
    assert limiter.check(1) == 1
    now[0] += 10
    assert [limiter.check(1) for _ in range(4)] == [None, None, None, 1]


async def test_errors_from_the_bot_are_not_faults(sandbox: Sandbox, bot: Bot) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(1, "niemand")
    assert [c.fault for c in sandbox.bot_errors] == [None]


async def test_latency_answers_a_done_call_later(sandbox: Sandbox, bot: Bot) -> None:
    """`latency`: the call is done (visible in the chat) before its answer comes back."""
    bea = sandbox.person(1001, "Bea", started=True)
    sandbox.latency = 600.0
    sending = asyncio.create_task(bot.send_message(1001, "een"))
    for _ in range(1000):  # until the message is in Bea's chat
        if bea.chat:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert [m.text for m in bea.chat] == ["een"]
    assert not sending.done()  # done in the sandbox, its answer still on its way
    sending.cancel()
