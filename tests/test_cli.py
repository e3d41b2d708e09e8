"""The command line: admin commands work without a token; bad configuration is explained."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.render import LANGUAGES, Renderer
from bot.route_overview import SAMPLE_NAMES, plain
from bot.sandbox import Sandbox
from bot.sandbox.models import bad_request
from flows import route
from storage.crypto import DataKeyError, new_key, parse_keys
from storage.db import Database
from tests.conftest import TEST_DATA_KEY
from tests.storage.test_encryption import MARKER, add_meetings, places


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SAMENOPVOEDEN_DATA_KEY", raising=False)  # the key file, as by default
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree
    return path


def test_admin_invite_prints_json(sqlite_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["admin", "add-organisation", "Gezinshuis.nl Zuid"]) == 0
    assert "Gezinshuis.nl Zuid" in capsys.readouterr().out
    code = main(
        [
            "admin",
            "invite",
            "--organisation",
            "Gezinshuis.nl Zuid",
            "--role",
            "begeleider",
            "--name",
            "Bea",
            "--json",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["link"] == f"https://t.me/samenopvoeden_bot?start={printed['code']}"
    assert len(printed["code"]) >= 16
    # Only the hash is stored: the code itself is nowhere in the database file.
    assert printed["code"].encode() not in sqlite_env.read_bytes()


def test_invite_for_unknown_organisation_is_explained(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["admin", "invite", "--organisation", "Nope", "--role", "behandelaar", "--name", "Ben"]
    )
    assert code == 2
    assert "no organisation called 'Nope'" in capsys.readouterr().err


def test_duplicate_organisation_is_refused(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "add-organisation", "Org"]) == 0
    assert main(["admin", "add-organisation", "Org"]) == 2
    assert "exists already" in capsys.readouterr().err


def test_run_without_token_says_what_to_do(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run"]) == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().err


def test_bad_settings_are_listed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMENOPVOEDEN_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    monkeypatch.setenv("DATABASE_URL", "mysql://x/y")
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert "SAMENOPVOEDEN_TIMEZONE" in message
    assert "TELEGRAM_BOT_TOKEN" in message
    assert "DATABASE_URL" in message
    assert "not-a-token" not in message  # secrets are not echoed


def places_in(url: str, key: str | None = None) -> list[str | None]:
    async def read() -> list[str | None]:
        db = Database(url, data_key=key)
        try:
            return await places(db)
        finally:
            await db.dispose()

    return asyncio.run(read())


def meeting_in(url: str) -> None:
    async def write() -> None:
        db = Database(url)
        try:
            await add_meetings(db, MARKER)
        finally:
            await db.dispose()

    asyncio.run(write())


def test_the_key_file_is_made_on_first_start_and_rotate_key_replaces_it(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{sqlite_env}"
    key_file = Path(f"{sqlite_env}.key")
    assert main(["db", "upgrade"]) == 0
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    [old] = parse_keys(key_file.read_text())
    meeting_in(url)
    capsys.readouterr()

    assert main(["db", "rotate-key"]) == 0
    out = capsys.readouterr().out
    [new] = parse_keys(key_file.read_text())
    assert new != old
    assert new not in out  # the key stays in its file
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert places_in(url) == [MARKER]  # the next start reads it with the key file
    with pytest.raises(DataKeyError):
        places_in(url, old)


def test_rotate_key_with_a_key_from_the_environment_prints_only_the_new_key(
    sqlite_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{sqlite_env}"
    old = new_key()
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", old)
    assert main(["db", "upgrade"]) == 0
    assert not Path(f"{sqlite_env}.key").exists()  # a key given: no key file

    async def write() -> None:
        db = Database(url, data_key=old)
        try:
            await add_meetings(db, MARKER)
        finally:
            await db.dispose()

    asyncio.run(write())
    capsys.readouterr()
    assert main(["db", "rotate-key"]) == 0
    printed = capsys.readouterr()
    new = printed.out.strip()
    assert printed.out == new + "\n"
    assert parse_keys(new) == [new]
    assert "set SAMENOPVOEDEN_DATA_KEY" in printed.err
    assert places_in(url, new) == [MARKER]
    with pytest.raises(DataKeyError):
        places_in(url, old)

    chosen = new_key()
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", new)
    assert main(["db", "rotate-key", f"--new-key={chosen}"]) == 0
    assert capsys.readouterr().out == chosen + "\n"
    assert places_in(url, chosen) == [MARKER]


def test_a_malformed_data_key_is_refused_and_not_echoed(
    sqlite_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", "mijn-geheime-sleutel")
    assert main(["db", "upgrade"]) == 2
    error = capsys.readouterr().err
    assert "SAMENOPVOEDEN_DATA_KEY" in error
    assert "mijn-geheime-sleutel" not in error
    assert not sqlite_env.exists()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["run"]])
def test_postgresql_without_a_data_key_refuses_to_start(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    url = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:1/none"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    monkeypatch.delenv("SAMENOPVOEDEN_DATA_KEY", raising=False)
    assert main(command) == 2
    error = capsys.readouterr().err
    assert "SAMENOPVOEDEN_DATA_KEY is not set" in error
    assert "openssl rand -base64 32" in error
    assert "Traceback" not in error


def test_postgresql_with_the_data_key_upgrades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url is None:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", TEST_DATA_KEY)
    assert main(["db", "upgrade"]) == 0
    assert "database is up to date" in capsys.readouterr().out


def route_sections(output: str) -> dict[str, str]:
    """The printed table split per phase: the text under each '== n. Phase ==' heading."""
    parts = re.split(r"^== \d+\. (.+) ==$", output, flags=re.MULTILINE)
    return {parts[i].lower(): parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_route_prints_every_phase_question_tip_and_meeting_of_the_table(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    language: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["route", "--lang", language]) == 0
    output = capsys.readouterr().out
    # Plain text, not Telegram HTML.
    assert "<" not in output
    assert "&amp;" not in output
    renderer = Renderer()

    def text(template: str, **context: object) -> str:
        return plain(renderer.render(language, template, context))

    sections = route_sections(output)
    assert list(sections) == [str(phase) for phase in route.PHASES]
    for phase in route.PHASES:
        section = sections[str(phase)]
        assert text(f"route/goal_{phase}") in section
        next_phase = renderer.label(language, "phase_staff", {"name": route.NEXT_PHASE[phase]})
        assert next_phase in section
        for role in route.PARTICIPANTS:
            asked = route.QUESTIONS[(role, phase)]
            for question in asked.base + asked.rotating:
                assert text(f"checkin/q_{question}", youth="Sam", role=str(role)) in section
            for tip in route.TIPS[(role, phase)]:
                name = SAMPLE_NAMES[role]
                assert text(f"prompt/{tip}", youth="Sam", name=name) in section
        for kind in route.MEETING_TYPES.values():
            label = renderer.label(language, "meeting_type", {"type": kind.code})
            assert (f"- {label}." in section) == (phase in kind.phases), (phase, kind.code)


def test_route_shows_the_rules_as_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["route"]) == 0
    default = capsys.readouterr().out
    assert "Na 24 uur komt één herinnering." in default
    assert "Tussen 21:30 en 08:00" in default
    monkeypatch.setenv("SAMENOPVOEDEN_CHECKIN_REMINDER_AFTER_HOURS", "30")
    monkeypatch.setenv("SAMENOPVOEDEN_QUIET_HOURS", "22:00-07:30")
    assert main(["route"]) == 0
    configured = capsys.readouterr().out
    assert "Na 30 uur komt één herinnering." in configured
    assert "Tussen 22:00 en 07:30" in configured


def test_route_with_a_wrong_setting_says_which(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMENOPVOEDEN_QUIET_HOURS", "00:00-23:59")
    assert main(["route"]) == 2
    assert "SAMENOPVOEDEN_QUIET_HOURS" in capsys.readouterr().err


# --- configuration a person gets wrong: one line, no traceback ------------------------------

# Every command that opens the database (run also contacts Telegram, check reports on stdout).
COMMANDS = [
    ["run"],
    ["db", "upgrade"],
    ["db", "rotate-key"],
    ["admin", "add-organisation", "Org"],
    ["admin", "invite", "--organisation", "Org", "--role", "begeleider", "--name", "Bea"],
    ["admin", "set-phone", "--organisation", "Org", "--phone", "+31 20 123 4567"],
    ["check"],
]
NOWHERE = "http://127.0.0.1:1/bot"  # Telegram nobody serves: a test contacting it fails loudly


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No settings from the machine: a token of the right shape, Telegram nowhere."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SAMENOPVOEDEN_DATA_KEY", "TELEGRAM_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", NOWHERE)
    return tmp_path


def one_line(command: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command; it fails with exactly one line that explains it, and no traceback."""
    code = main(command)
    printed = capsys.readouterr()
    assert code != 0, printed
    assert "Traceback" not in printed.out + printed.err
    if command[0] == "check":
        failed = [line for line in printed.out.splitlines() if line.startswith("✗")]
        assert len(failed) == 1, printed.out
        assert printed.err == ""
        return failed[0]
    lines = printed.err.strip().splitlines()
    assert len(lines) == 1, printed.err
    assert lines[0].startswith("samenopvoeden: ")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("nonsense://", "DATABASE_URL: unsupported database 'nonsense'; write it as sqlite:///"),
        ("postgresql:/x", "DATABASE_URL: is not a database URL; write it as sqlite:///"),
        ("sqlite:/bot.db", "DATABASE_URL: is not a database URL"),
    ],
)
def test_a_malformed_database_url_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    url: str,
    said: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert said in one_line(command, capsys)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unreachable_postgresql_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:geheim@127.0.0.1:1/none")
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", TEST_DATA_KEY)
    line = one_line(command, capsys)
    assert "cannot reach PostgreSQL at 127.0.0.1:1: nothing listens there" in line
    assert "geheim" not in line


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_sqlite_file_in_a_folder_that_does_not_exist_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    path = clean_env / "nergens" / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    line = one_line(command, capsys)
    assert f"cannot open the SQLite database {path}: the folder does not exist" in line or (
        f"the folder {path.parent} does not exist" in line
    )
    assert not path.parent.exists()  # nothing was made


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_file_that_is_no_database_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    path = clean_env / "notities.txt"
    path.write_text("Boodschappen: melk, brood, kaas. Niet vergeten: Sam bellen op zondag.\n")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    line = one_line(command, capsys)
    assert line.endswith(f"{path} is not a SQLite database (DATABASE_URL)")


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process may not write in: a read-only one, or /sys for root."""
    if os.geteuid() != 0:
        folder = tmp_path / "alleen-lezen"
        folder.mkdir(mode=0o500)
        return folder
    try:
        os.close(os.open("/sys/samenopvoeden-test.db", os.O_WRONLY | os.O_CREAT, 0o600))
    except PermissionError:
        return Path("/sys")
    pytest.skip("no folder here refuses a file to this user")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] != "check"], ids=" ".join)
def test_a_sqlite_file_without_permission_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    path = unwritable_folder(clean_env) / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    line = one_line(command, capsys)
    assert f"cannot open the SQLite database {path}: no permission to write" in line


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_postgresql_without_its_driver_names_the_extra(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # `import asyncpg` fails, as uninstalled
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", TEST_DATA_KEY)
    line = one_line(command, capsys)
    assert "PostgreSQL needs its driver asyncpg, which is not installed" in line
    assert line.endswith('pip install "samenopvoeden[postgres]"')


@pytest.mark.parametrize("command", [["run"], ["check"]], ids=" ".join)
@pytest.mark.parametrize("token", ["98765", "98765:kort", "bot98765:ABCDEFGHIJKLMNOPQRSTUVWXYZ"])
def test_a_malformed_token_is_refused_before_telegram_is_asked(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
    command: list[str],
    token: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{clean_env / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    line = one_line(command, capsys)
    assert "TELEGRAM_BOT_TOKEN: looks wrong" in line
    assert token not in line
    assert fake_telegram.calls == []


@pytest.mark.parametrize("command", [["run"], ["run", "--webhook"], ["check"]], ids=" ".join)
def test_a_token_telegram_refuses_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
    command: list[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{clean_env / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "654321:ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # not its own
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_SECRET", "s" * 32)
    if command == ["check"]:
        assert main(["db", "upgrade"]) == 0  # so that the check gets as far as Telegram
        capsys.readouterr()
    line = one_line(command, capsys)
    assert "Telegram refused the token in TELEGRAM_BOT_TOKEN" in line
    assert "ABCDEFGHIJKLMNOPQRSTUVWXYZ" not in line
    assert [call.method for call in fake_telegram.calls] == ["getMe"]  # and nothing after it


def test_run_asks_the_database_before_telegram(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    assert "cannot reach PostgreSQL" in one_line(["run"], capsys)
    assert fake_telegram.calls == []


def test_run_on_postgresql_that_is_not_migrated_says_so(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url is None:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    asyncio.run(downgrade_to_base(url))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    line = one_line(["run"], capsys)
    assert "the database has no migrations applied" in line
    assert "run `samenopvoeden db upgrade` first" in line
    assert fake_telegram.calls == []


async def downgrade_to_base(url: str) -> None:
    """Empty the test database's schema, as the tests' own fixture does before it upgrades."""
    db = Database(url, data_key=TEST_DATA_KEY)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()


def test_a_webhook_port_in_use_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{clean_env / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_SECRET", "s" * 32)
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_LISTEN", "127.0.0.1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_PORT", str(port))
        line = one_line(["run", "--webhook"], capsys)
    assert line == (
        f"samenopvoeden: cannot listen on 127.0.0.1:{port}: another program listens on that "
        "port (SAMENOPVOEDEN_WEBHOOK_LISTEN, SAMENOPVOEDEN_WEBHOOK_PORT)"
    )
    assert "setWebhook" not in [call.method for call in fake_telegram.calls]


def test_a_webhook_url_telegram_refuses_is_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{clean_env / 'bot.db'}")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_SECRET", "s" * 32)
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_LISTEN", "127.0.0.1")
    monkeypatch.setenv("SAMENOPVOEDEN_WEBHOOK_PORT", str(free_port()))

    def refuse(params: object) -> bool:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")

    # As Telegram answers an http:// URL (the sandbox itself takes http, as it runs locally).
    fake_telegram.api.methods["setwebhook"] = ("setWebhook", refuse)
    line = one_line(["run", "--webhook"], capsys)
    assert line == (
        "samenopvoeden: Telegram refused the webhook https://bot.example.org/telegram: "
        "Bad webhook: an https url must be provided for webhook (SAMENOPVOEDEN_WEBHOOK_URL)"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stored_phone(path: Path, name: str) -> str | None:
    import sqlite3

    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT phone FROM organisation WHERE name = ?", (name,)
        ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def test_admin_set_phone_stores_the_number_people_are_told_to_call(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "add-organisation", "Zorg Zuid"]) == 0
    assert _stored_phone(sqlite_env, "Zorg Zuid") is None
    code = main(
        ["admin", "set-phone", "--organisation", "Zorg Zuid", "--phone", " +31 88  123-4567 "]
    )
    assert code == 0
    assert "phone of Zorg Zuid: +31 88 123-4567" in capsys.readouterr().out
    assert _stored_phone(sqlite_env, "Zorg Zuid") == "+31 88 123-4567"
    # Set again: the new number replaces the old one.
    assert (
        main(["admin", "set-phone", "--organisation", "Zorg Zuid", "--phone", "0881234567"]) == 0
    )
    assert _stored_phone(sqlite_env, "Zorg Zuid") == "0881234567"


@pytest.mark.parametrize(
    ("phone", "says"),
    [
        ("12345", "must have 6-20 digits"),
        ("1" * 21, "must have 6-20 digits"),
        ("088-CALL-NOW", "only digits, spaces, '-' and a leading '+'"),
        ("088 123 (45) 67", "only digits, spaces, '-' and a leading '+'"),
        ("++31 88 123 4567", "only digits, spaces, '-' and a leading '+'"),
        ("088 1234567-", "only digits, spaces, '-' and a leading '+'"),
        ("", "only digits, spaces, '-' and a leading '+'"),
    ],
)
def test_admin_set_phone_refuses_what_is_not_a_phone_number(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str], phone: str, says: str
) -> None:
    assert main(["admin", "add-organisation", "Zorg Zuid"]) == 0
    assert main(["admin", "set-phone", "--organisation", "Zorg Zuid", "--phone", phone]) == 2
    assert says in capsys.readouterr().err
    assert _stored_phone(sqlite_env, "Zorg Zuid") is None


def test_admin_set_phone_for_an_unknown_organisation_is_explained(
    sqlite_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["admin", "set-phone", "--organisation", "Nope", "--phone", "088 123 45 67"])
    assert code == 2
    assert "no organisation called 'Nope'" in capsys.readouterr().err
