"""`samenopvoeden check`: one line per check, ✓ or ✗, the database before Telegram."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.sandbox import Sandbox
from storage.crypto import new_key
from storage.db import Database
from tests.conftest import TEST_DATA_KEY
from tests.fake_telegram import USERNAME
from tests.storage.test_encryption import MARKER, add_meetings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite database file in a fresh folder, no token, no key: as a first try would be."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "SAMENOPVOEDEN_DATA_KEY"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


def check(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict[str, str]]:
    """Run `check`; its exit code and its lines by what they checked ("database": "✓ ...")."""
    code = main(["check", *flags])
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    found: dict[str, str] = {}
    for line in printed.out.splitlines():
        mark, _, rest = line.partition(" ")
        assert mark in ("✓", "✗", "-"), line
        what, _, detail = rest.partition(": ")
        assert what not in found or what == "data key", line
        found[what] = f"{mark} {detail}"
    return code, found


def upgrade(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()


def use_telegram(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, token: str) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)


def test_a_fresh_setup_is_told_to_make_the_database_first(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found = check(capsys)
    assert code == 1
    assert found["configuration"].startswith("✓")
    assert found["database"].startswith("✗ there is no SQLite database at")
    assert "samenopvoeden db upgrade" in found["database"]
    assert found["Telegram"].startswith("- not contacted")
    assert not env.exists()  # check makes nothing: no database file …
    assert not Path(f"{env}.key").exists()  # … and no key file


def test_a_migrated_sqlite_database_without_a_token_passes(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(capsys)
    code, found = check(capsys)
    assert code == 0, found
    assert found["database"] == f"✓ SQLite at sqlite:///{env} answers"
    assert found["migrations"].startswith("✓ up to date (")
    assert found["data key"] == f"✓ the key file {env}.key"
    assert found["Telegram"] == "- TELEGRAM_BOT_TOKEN is not set, so not checked"


def test_telegram_is_asked_with_the_token_and_names_the_bot(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    upgrade(capsys)
    use_telegram(monkeypatch, fake_telegram, fake_telegram.token)
    code, found = check(capsys)
    assert code == 0, found
    assert found["Telegram"] == f"✓ the token works: the bot is @{USERNAME}"
    assert [call.method for call in fake_telegram.calls] == ["getMe"]


def test_a_database_that_fails_keeps_telegram_out_of_it(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", TEST_DATA_KEY)
    use_telegram(monkeypatch, fake_telegram, fake_telegram.token)
    code, found = check(capsys)
    assert code == 1
    assert found["database"].startswith("✗ cannot reach PostgreSQL at 127.0.0.1:1")
    assert found["Telegram"] == "- not contacted, as the database is not ready"
    assert fake_telegram.calls == []


def test_migrations_behind_are_named_with_what_to_do(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def behind() -> list[str]:
        db = Database(f"sqlite:///{env}")
        try:
            _, known = await db.revisions()
            await db.upgrade(known[-2])
            return known
        finally:
            await db.dispose()

    known = asyncio.run(behind())
    code, found = check(capsys)
    assert code == 1
    assert found["migrations"] == (
        f"✗ at {known[-2]}, this version needs {known[-1]}: run `samenopvoeden db upgrade`"
    )
    upgrade(capsys)
    assert check(capsys)[0] == 0


def test_a_data_key_that_does_not_open_the_stored_text_fails(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(capsys)

    async def write() -> None:
        db = Database(f"sqlite:///{env}")  # the key file's key
        try:
            await add_meetings(db, MARKER)
        finally:
            await db.dispose()

    asyncio.run(write())
    code, found = check(capsys)
    assert code == 0, found
    assert found["stored text"] == "✓ the data key opens it"

    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", new_key())  # another key wins over the file
    code, found = check(capsys)
    assert code == 1
    assert found["data key"].startswith("✓ SAMENOPVOEDEN_DATA_KEY is set (1 key)")
    assert found["stored text"].startswith("✗ the data key does not open it")

    monkeypatch.delenv("SAMENOPVOEDEN_DATA_KEY")
    Path(f"{env}.key").unlink()  # lost with a backup that left it out
    code, found = check(capsys)
    assert code == 1
    assert found["data key"].startswith("✗ no key file at")
    assert "yet the database holds encrypted text" in found["data key"]


def test_health_asks_the_database_only(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    upgrade(capsys)
    use_telegram(monkeypatch, fake_telegram, "654321:ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # refused
    code, found = check(capsys, "--health")
    assert code == 0
    assert list(found) == ["database"]
    assert fake_telegram.calls == []

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    code, found = check(capsys, "--health")
    assert code == 1
    assert found["database"].startswith("✗ cannot reach PostgreSQL")


def test_wrong_settings_are_the_first_failed_check(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMENOPVOEDEN_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("SAMENOPVOEDEN_QUIET_HOURS", "elke avond")
    code = main(["check"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert len(lines) == 2
    assert all(line.startswith("✗ configuration: SAMENOPVOEDEN_") for line in lines)


def test_on_postgresql(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fake_telegram: Sandbox,
) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url is None:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    asyncio.run(empty_schema(url))  # what earlier tests left (other keys, too) goes
    monkeypatch.setenv("DATABASE_URL", url)
    code, found = check(capsys)
    assert code == 1
    assert found["database"].startswith("✓ PostgreSQL at postgresql://")
    assert found["migrations"] == "✗ none applied yet: run `samenopvoeden db upgrade`"
    assert found["data key"].startswith("✗ SAMENOPVOEDEN_DATA_KEY is not set")
    assert fake_telegram.calls == []

    monkeypatch.setenv("SAMENOPVOEDEN_DATA_KEY", TEST_DATA_KEY)
    upgrade(capsys)
    use_telegram(monkeypatch, fake_telegram, fake_telegram.token)
    code, found = check(capsys)
    assert code == 0, found
    assert found["migrations"].startswith("✓ up to date")
    assert found["data key"] == "✓ SAMENOPVOEDEN_DATA_KEY is set (1 key)"
    assert found["Telegram"] == f"✓ the token works: the bot is @{USERNAME}"
    assert main(["check", "--health"]) == 0


async def empty_schema(url: str) -> None:
    db = Database(url, data_key=TEST_DATA_KEY)
    try:
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await db.dispose()
