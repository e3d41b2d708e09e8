"""The command line: admin commands work without a token; bad configuration is explained."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.render import LANGUAGES, Renderer
from bot.route_overview import SAMPLE_NAMES, plain
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
