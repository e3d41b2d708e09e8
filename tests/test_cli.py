"""The command line: admin commands work without a token; bad configuration is explained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
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
