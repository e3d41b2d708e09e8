"""People chatting with a real PTB Application through the sandbox."""

import asyncio

import httpx
import pytest
from telegram import Bot, Update
from telegram.ext import Application

from bot.sandbox import Sandbox


async def test_start_deep_link_and_echo(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    bea = sandbox.person(1001, "Bea")
    replies = await bea.send("/start abc123")
    assert [m.text for m in replies] == ["Welkom Bea!\ncode: abc123"]
    assert replies[0].html == "Welkom <b>Bea</b>!\ncode: abc123"
    assert replies[0].buttons == [[("Ja", "ja"), ("Nee", "nee")]]
    replies = await bea.send("hallo")
    assert [m.text for m in replies] == ["Echo: hallo"]
    assert [m.from_bot for m in bea.chat] == [False, True, False, True]
    assert bea.last is replies[0]
    assert sandbox.errors == []


async def test_click_answers_and_edits(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    bea = sandbox.person(1001, "Bea")
    await bea.send("/start")
    question = bea.last
    replies = await bea.click("Nee")
    assert replies == [question]
    assert (question.text, question.edited, question.buttons) == ("Je koos nee.", True, [])
    assert bea.alerts == ["Gekozen: nee"]
    assert sandbox.unanswered_callback_queries == []
    with pytest.raises(AssertionError, match="no button 'Ja'"):
        await bea.click("Ja")  # the edit removed the keyboard
    assert sandbox.errors == []


async def test_click_unknown_label_lists_labels(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    bea = sandbox.person(1001, "Bea")
    await bea.send("/start")
    with pytest.raises(AssertionError, match=r"Buttons present: .*\['Ja', 'Nee'\]"):
        await bea.click("Misschien")


async def test_forged_callback_data_reaches_the_bot(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    bea = sandbox.person(1001, "Bea")
    await bea.send("/start")
    replies = await bea.click_data("vervalst", bea.last.message_id)
    assert replies[0].text == "Je koos vervalst."


async def test_photo_when_nothing_is_asked(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    bea = sandbox.person(1001, "Bea")
    replies = await bea.send_photo()
    assert [m.text for m in replies] == ["Ik heb nu geen foto nodig."]


async def test_transcript(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    bea = sandbox.person(1001, "Bea")
    await bea.send("/start abc")
    await bea.send("/start abc")
    await bea.click("Ja")
    text = sandbox.transcript(labels={1001: "Bea (begeleider)"})
    assert text.splitlines() == [
        "── Bea (begeleider) ──",
        "Bea: /start abc",
        "Bot: Welkom Bea!",
        "     code: abc",
        "     [Ja] [Nee]",
        "Bea: /start abc",
        "Bot: Je koos ja. (bewerkt)",
        "Bea: (klikt op [Ja])",
        "Bot: (melding) Gekozen: ja",
    ]


async def test_no_bot_running_fails_clearly(sandbox: Sandbox) -> None:
    bea = sandbox.person(1001, "Bea")
    with pytest.raises(AssertionError, match="did not fetch the update"):
        await bea.send("hallo", timeout=0.3)


async def test_no_reply_fails_clearly_and_expect_reply_false(sandbox: Sandbox, bot: Bot) -> None:
    bea = sandbox.person(1001, "Bea")

    async def poll_once() -> list[Update]:
        return list(await bot.get_updates(timeout=2))

    poller = asyncio.create_task(poll_once())
    assert await bea.send("niemand thuis?", expect_reply=False) == []
    assert [u.message.text for u in await poller if u.message] == ["niemand thuis?"]
    poller = asyncio.create_task(poll_once())
    with pytest.raises(AssertionError, match="made no API call for this chat"):
        await bea.send("hallo?", timeout=0.5)
    await poller


async def test_wait_for_proactive_message(sandbox: Sandbox, bot: Bot) -> None:
    bea = sandbox.person(1001, "Bea", started=True)

    async def remind_later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(1001, "iets anders")
        await bot.send_message(1001, "Herinnering: gesprek morgen")

    task = asyncio.create_task(remind_later())
    msg = await bea.wait_for_message(lambda m: m.text.startswith("Herinnering"), timeout=3)
    assert msg.text == "Herinnering: gesprek morgen"
    await task
    with pytest.raises(AssertionError, match="no matching bot message"):
        await bea.wait_for_message(timeout=0.2)
    await sandbox.settle(timeout=2)


async def test_block_sends_my_chat_member(sandbox: Sandbox, bot: Bot) -> None:
    bea = sandbox.person(1001, "Bea", started=True)
    bea.block()
    bea.unblock()
    updates = await bot.get_updates(timeout=0)
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == [
        "kicked",
        "member",
    ]


async def test_http_control_endpoints(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    async with httpx.AsyncClient(base_url=f"{sandbox.url}/_sandbox/", timeout=10) as control:
        made = await control.post("person", json={"user_id": 7, "first_name": "Piet"})
        assert made.json()["ok"]
        sent = await control.post("send", json={"user_id": 7, "text": "/start x"})
        assert [m["text"] for m in sent.json()["result"]] == ["Welkom Piet!\ncode: x"]
        clicked = await control.post("click", json={"user_id": 7, "label": "Ja"})
        assert clicked.json()["result"][0]["edited"] is True
        missing = await control.post("click", json={"user_id": 7, "label": "Ja"})
        assert missing.status_code == 409
        assert "no button" in missing.json()["description"]
        chat = (await control.get("chat", params={"user_id": "7"})).json()["result"]
        assert [m["from_bot"] for m in chat] == [False, True]
        stats = (await control.get("stats")).json()["result"]
        assert stats["calls"]["sendMessage"] == 1
        assert "Piet: /start x" in (await control.get("transcript")).json()["result"]
        assert (await control.post("nonsense")).status_code == 400


async def test_sending_after_blocking_restarts_the_bot(sandbox: Sandbox, app: Application) -> None:  # type: ignore[type-arg]
    bea = sandbox.person(1001, "Bea")
    await bea.send("/start")
    bea.block()
    assert bea.blocked
    replies = await bea.send("/start")
    assert not bea.blocked
    assert replies[0].text.startswith("Welkom Bea!")
    assert sandbox.errors == []
