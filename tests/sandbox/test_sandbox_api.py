"""Bot API methods and Telegram's strict errors, driven with PTB's real Bot."""

import io

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, InvalidToken

from bot.sandbox import Sandbox


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d or "x", callback_data=d) for d in data]])


@pytest.fixture
def bea_id(sandbox: Sandbox) -> int:
    return sandbox.person(1001, "Bea", started=True).user_id


async def test_get_me_and_wrong_token(sandbox: Sandbox, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "samenopvoeden_bot", True)
    async with httpx.AsyncClient() as client:
        wrong = await client.get(f"{sandbox.base_url}654321:WRONG/getMe")
        unknown = await client.post(f"{sandbox.base_url}{sandbox.token}/sendTelepathy")
        upper = await client.get(f"{sandbox.base_url}{sandbox.token}/GETME")
    assert (wrong.status_code, wrong.json()["description"]) == (401, "Unauthorized")
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert upper.json()["result"]["username"] == "samenopvoeden_bot"
    wrong_bot = Bot("654321:WRONG", base_url=sandbox.base_url)
    try:
        with pytest.raises(InvalidToken):
            await wrong_bot.get_me()
    finally:
        await wrong_bot.request.shutdown()  # never initialized, so Bot.shutdown() skips it


async def test_send_message_returns_a_message_ptb_understands(
    sandbox: Sandbox, bot: Bot, bea_id: int
) -> None:
    sent = await bot.send_message(
        bea_id, "<b>Hoi</b> Bea &amp; co", parse_mode="HTML", reply_markup=keyboard("a", "b")
    )
    assert isinstance(sent, Message)
    assert sent.text == "Hoi Bea & co"
    assert sent.chat.type == "private"
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    assert sent.entities[0].type == "bold"
    assert sent.reply_markup == keyboard("a", "b")
    seen = sandbox.person(bea_id, "Bea").last
    assert (seen.text, seen.html) == ("Hoi Bea & co", "<b>Hoi</b> Bea &amp; co")
    assert seen.buttons == [[("a", "a"), ("b", "b")]]
    assert sandbox.calls_to("sendMessage")[0].ok


async def test_json_body_and_query_string_are_accepted(sandbox: Sandbox, bea_id: int) -> None:
    async with httpx.AsyncClient() as client:
        by_json = await client.post(
            f"{sandbox.base_url}{sandbox.token}/sendMessage",
            json={"chat_id": bea_id, "text": "json", "reply_markup": {"inline_keyboard": []}},
        )
        by_query = await client.get(
            f"{sandbox.base_url}{sandbox.token}/sendMessage",
            params={"chat_id": bea_id, "text": "q"},
        )
    assert by_json.json()["result"]["text"] == "json"
    assert by_query.json()["result"]["text"] == "q"


async def test_chat_not_found_and_blocked(sandbox: Sandbox, bot: Bot, bea_id: int) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hallo")
    sandbox.person(1002, "Nog niet gestart")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(1002, "hallo")
    person = sandbox.person(bea_id, "Bea")
    person.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(bea_id, "hallo")
    person.unblock()
    await bot.send_message(bea_id, "weer welkom")
    assert [e.error_code for e in sandbox.errors] == [400, 400, 403]


@pytest.mark.parametrize("text", ["", "   \n ", "<b> </b>"])
async def test_empty_text(bot: Bot, bea_id: int, text: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(bea_id, text, parse_mode="HTML")


async def test_length_limit_counts_utf16_after_entity_parsing(bot: Bot, bea_id: int) -> None:
    await bot.send_message(bea_id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(bea_id, "😀" * 2048)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(bea_id, "<b>" + "a" * 4097 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(bea_id, "😀" * 2048 + "a")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<foo>x</foo>", 'unsupported start tag "foo"'),
        ("1 < 2", "unsupported start tag"),
        ("jij & ik", "character reference"),
        ("<b>open", "can't find end tag"),
        ("<b><i>x</b></i>", "unmatched end tag"),
    ],
)
async def test_bad_html(sandbox: Sandbox, bot: Bot, bea_id: int, text: str, reason: str) -> None:
    with pytest.raises(BadRequest) as info:
        await bot.send_message(bea_id, text, parse_mode="HTML")
    assert info.value.message.lower().startswith("can't parse entities: ")
    assert reason in info.value.message.lower()
    assert "byte offset" in info.value.message
    assert sandbox.errors[-1].description.startswith("Bad Request: can't parse entities: ")


async def test_nested_html_and_plain_text_with_brackets(bot: Bot, bea_id: int) -> None:
    sent = await bot.send_message(bea_id, "<b>a <i>b <u>c</u></i></b>", parse_mode="HTML")
    assert [e.type for e in sent.entities] == ["bold", "italic", "underline"]
    plain = await bot.send_message(bea_id, "1 < 2 & <b>")  # no parse_mode: nothing to parse
    assert plain.text == "1 < 2 & <b>"


async def test_inline_keyboard_rules(bot: Bot, bea_id: int) -> None:
    await bot.send_message(bea_id, "64", reply_markup=keyboard("x" * 64, "é" * 32))
    for too_long in ("x" * 65, "é" * 33):
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(bea_id, "65", reply_markup=keyboard(too_long))
    many = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    )
    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await bot.send_message(bea_id, "veel", reply_markup=many)
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(
            bea_id, "x", reply_markup={"inline_keyboard": [[{"text": "alleen tekst"}]]}
        )
    with pytest.raises(BadRequest, match=r"(?i)text must be non-empty"):
        await bot.send_message(
            bea_id, "x", reply_markup={"inline_keyboard": [[{"text": "", "callback_data": "a"}]]}
        )
    with pytest.raises(BadRequest, match=r"(?i)button_url_invalid"):
        await bot.send_message(
            bea_id, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("u", "nope")]])
        )


async def test_edit_rules(sandbox: Sandbox, bot: Bot, bea_id: int) -> None:
    sent = await bot.send_message(
        bea_id, "<b>vraag</b>", parse_mode="HTML", reply_markup=keyboard("a")
    )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>vraag</b>", bea_id, sent.message_id, parse_mode="HTML", reply_markup=keyboard("a")
        )
    # Same text but different formatting is a modification, like on Telegram.
    await bot.edit_message_text("vraag", bea_id, sent.message_id, reply_markup=keyboard("a"))
    # Leaving out reply_markup removes the keyboard.
    edited = await bot.edit_message_text("beantwoord", bea_id, sent.message_id)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    seen = sandbox.person(bea_id, "Bea").last
    assert (seen.text, seen.edited, seen.buttons) == ("beantwoord", True, [])
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(bea_id, sent.message_id)
    await bot.edit_message_reply_markup(bea_id, sent.message_id, reply_markup=keyboard("b"))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", bea_id, 4242)
    with pytest.raises(BadRequest):
        await bot.edit_message_text("x", inline_message_id="abc")


async def test_delete_and_reply_rules(sandbox: Sandbox, bot: Bot, bea_id: int) -> None:
    sent = await bot.send_message(bea_id, "weg ermee")
    assert await bot.delete_message(bea_id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(bea_id, sent.message_id)
    bea = sandbox.person(bea_id, "Bea")
    assert bea.chat[-1].deleted
    assert bea.visible == []
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(bea_id, "re", reply_parameters=ReplyParameters(sent.message_id))
    kept = await bot.send_message(bea_id, "blijft")
    reply = await bot.send_message(bea_id, "re", reply_parameters=ReplyParameters(kept.message_id))
    assert reply.reply_to_message is not None


async def test_answer_callback_query_unknown_id(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("123")


async def test_documents_and_photos(sandbox: Sandbox, bot: Bot, bea_id: int) -> None:
    data = b"naam;telefoon\nBea;06\n"
    sent = await bot.send_document(
        bea_id,
        InputFile(io.BytesIO(data), filename="contacten.csv"),
        caption="<b>Lijst</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None
    assert sent.document.file_name == "contacten.csv"
    assert sent.caption == "Lijst"
    seen = sandbox.person(bea_id, "Bea").last
    assert seen.document is not None
    assert (seen.document.filename, seen.document.data, seen.caption) == (
        "contacten.csv",
        data,
        "Lijst",
    )
    again = await bot.send_document(bea_id, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_unique_id == sent.document.file_unique_id
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data
    photo = await bot.send_photo(bea_id, b"\x89PNG fake", caption="foto")
    assert photo.photo
    assert photo.photo[-1].file_size == 9
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(bea_id, b"x", filename="x.txt", caption="a" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(bea_id, "no-such-file-id")
    await bot.send_chat_action(bea_id, "upload_document")


async def test_commands_per_scope_and_language(sandbox: Sandbox, bot: Bot) -> None:
    nl = sandbox.person(1, "Nel", "nl", started=True)
    en = sandbox.person(2, "Ed", "en", started=True)
    special = sandbox.person(3, "Sam", "nl", started=True)
    assert nl.commands == []
    await bot.set_my_commands([BotCommand("start", "Begin")])
    await bot.set_my_commands([BotCommand("help", "Help")], language_code="en")
    assert (nl.commands, en.commands) == ([("start", "Begin")], [("help", "Help")])
    await bot.set_my_commands(
        [BotCommand("start", "Start"), BotCommand("stop", "Stop")],
        scope=BotCommandScopeAllPrivateChats(),
    )
    await bot.set_my_commands([BotCommand("admin", "Beheer")], scope=BotCommandScopeChat(3))
    assert nl.commands == [("start", "Start"), ("stop", "Stop")]
    assert en.commands == [("start", "Start"), ("stop", "Stop")]
    assert special.commands == [("admin", "Beheer")]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["help"]
    await bot.delete_my_commands(scope=BotCommandScopeChat(3))
    assert special.commands == nl.commands
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start!", "x")])


async def test_calls_are_logged(sandbox: Sandbox, bot: Bot, bea_id: int) -> None:
    await bot.send_message(bea_id, "een")
    with pytest.raises(BadRequest):
        await bot.send_message(bea_id, "")
    methods = [c.method for c in sandbox.calls]
    assert methods == ["getMe", "sendMessage", "sendMessage"]
    assert [c.ok for c in sandbox.calls] == [True, True, False]
    assert sandbox.errors[0].description == "Bad Request: message text is empty"
    assert sandbox.errors[0].params["chat_id"] == str(bea_id)
    assert sandbox.stats.calls["sendMessage"] == 2
