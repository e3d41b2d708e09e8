"""`samenopvoeden check`: is this configuration ready to run? One line per check, ✓ or ✗.

The order is the order of need: the settings, then the database (it answers, its migrations,
the data key that opens its stored text), and only when all of that holds, Telegram (getMe,
which proves the token). `--health` checks the settings and that the database answers: fast,
no Telegram call, for a container's HEALTHCHECK in polling and webhook mode alike.

Nothing is written: no database file, no key file (unlike `run` and `db upgrade`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Text, select
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError

from bot.app import hide_token_in_logs
from bot.config import ConfigError, Settings, load_settings
from bot.transport import AiohttpRequest
from storage.crypto import (
    KEY_ENV,
    PREFIX,
    DataKeyError,
    Keyring,
    encrypted_columns,
    key_file_for,
    missing_key_message,
    new_key,
    parse_keys,
    read_key_file,
)
from storage.db import Database, DatabaseUnavailable, is_sqlite, shown_url, sqlite_path

OK, FAILED, SKIPPED = "✓", "✗", "-"
# `check` waits this long for the database and for Telegram; a health check must be quick.
DATABASE_SECONDS = 5.0
TELEGRAM_SECONDS = 10.0
DEFAULT_API = "https://api.telegram.org/bot"


class TelegramUnavailable(Exception):
    """Telegram refused the token or could not be reached at start; the message says why."""


def telegram_problem(error: BaseException, base_url: str | None) -> str | None:
    """One line for a start-up failure that the token or the Bot API address causes."""
    if isinstance(error, InvalidToken):
        return (
            "Telegram refused the token in TELEGRAM_BOT_TOKEN (wrong, or revoked): copy it "
            "again from @BotFather (/mybots, API Token)"
        )
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):  # TimedOut too
        where = base_url or DEFAULT_API
        return f"cannot reach Telegram at {where.removesuffix('/bot')}: {error.message}"
    return None


@dataclass(frozen=True)
class Finding:
    """One check's outcome, printed as one line."""

    mark: str
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.mark} {self.what}: {self.detail}"


Report = Callable[[Finding], None]


def run_check(*, health: bool = False, report: Report | None = None) -> int:
    """Check everything (or for `health` the database only); 0 when every check passed."""
    found: list[Finding] = []

    def note(finding: Finding) -> None:
        found.append(finding)
        (report or _print)(finding)

    try:
        settings = load_settings()
    except ConfigError as error:
        problems = [line.strip() for line in str(error).splitlines()]
        for problem in problems[1:] if len(problems) > 1 else problems:
            note(Finding(FAILED, "configuration", problem))
        return 1
    if not health:
        note(Finding(OK, "configuration", "every setting is valid"))
    asyncio.run(_checks(settings, health, note))
    return 1 if any(finding.mark == FAILED for finding in found) else 0


def _print(finding: Finding) -> None:
    print(finding.line(), flush=True)


async def _checks(settings: Settings, health: bool, note: Report) -> None:
    database_ok = await _database(settings, health, note)
    if health:
        return
    if not database_ok:
        note(Finding(SKIPPED, "Telegram", "not contacted, as the database is not ready"))
        return
    note(await _telegram(settings))


async def _database(settings: Settings, health: bool, note: Report) -> bool:
    """The database checks; True when all passed."""
    url = settings.database_url
    path = sqlite_path(url)
    if path is not None and not path.exists():
        detail = f"there is no SQLite database at {path} yet: `samenopvoeden db upgrade` makes it"
        if not path.parent.is_dir():
            detail = f"cannot open the SQLite database {path}: the folder does not exist"
        note(Finding(FAILED, "database", detail + " (DATABASE_URL)"))
        return False
    try:
        # A throwaway key: the checks read no text with it, and no key file is made.
        db = Database(url, data_key=new_key())
    except DatabaseUnavailable as error:
        note(Finding(FAILED, "database", str(error)))
        return False
    try:
        try:
            await db.ping(DATABASE_SECONDS)
        except DatabaseUnavailable as error:
            note(Finding(FAILED, "database", str(error)))
            return False
        kind = "SQLite" if is_sqlite(url) else "PostgreSQL"
        note(Finding(OK, "database", f"{kind} at {shown_url(url)} answers"))
        if health:
            return True
        migrated = await _migrations(db, note)
        key_ok, keys = _data_key(settings, note)
        if not (migrated and key_ok):
            return False
        return await _key_opens(db, keys, note)
    finally:
        await db.dispose()


async def _migrations(db: Database, note: Report) -> bool:
    current, known = await db.revisions()
    newest = known[-1]
    if current == newest:
        note(Finding(OK, "migrations", f"up to date ({newest})"))
        return True
    if current is None:
        detail = "none applied yet: run `samenopvoeden db upgrade`"
    elif current not in known:
        detail = (
            f"the database is at {current}, which this version does not know (a newer "
            f"version migrated it); this version's newest is {newest}"
        )
    else:
        detail = f"at {current}, this version needs {newest}: run `samenopvoeden db upgrade`"
    note(Finding(FAILED, "migrations", detail))
    return False


def _data_key(settings: Settings, note: Report) -> tuple[bool, Keyring | None]:
    """Whether the key is in order, and the keyring that should open the stored text (None:
    no key file yet)."""
    given = settings.key()
    if given is not None:
        keys = parse_keys(given)  # the settings checked their form already
        count = "1 key" if len(keys) == 1 else f"{len(keys)} keys, the first encrypts"
        note(Finding(OK, "data key", f"{KEY_ENV} is set ({count})"))
        return True, Keyring(keys)
    path = sqlite_path(settings.database_url)
    if path is None:
        note(Finding(FAILED, "data key", missing_key_message()))
        return False, None
    key_file = key_file_for(str(path))
    if not key_file.exists():
        return True, None  # fine if nothing is encrypted yet: _key_opens says which
    try:
        keys = read_key_file(key_file)
    except (DataKeyError, OSError) as error:
        note(Finding(FAILED, "data key", str(error)))
        return False, None
    note(Finding(OK, "data key", f"the key file {key_file}"))
    return True, Keyring(keys)


async def _key_opens(db: Database, keys: Keyring | None, note: Report) -> bool:
    """Whether the key opens a sample of the stored text (when there is any)."""
    stored = await _encrypted_sample(db)
    if keys is None:
        key_file = key_file_for(str(sqlite_path(db.url)))
        if stored is not None:
            note(
                Finding(
                    FAILED,
                    "data key",
                    f"no key file at {key_file}, yet the database holds encrypted text: "
                    f"put the key file back (or set {KEY_ENV})",
                )
            )
            return False
        note(Finding(OK, "data key", f"none yet: `run` makes {key_file} on its first start"))
        return True
    if stored is None:
        return True
    try:
        keys.decrypt(stored)
    except DataKeyError:
        note(
            Finding(
                FAILED,
                "stored text",
                "the data key does not open it: it was written with another key (give the "
                f"old key after the new one in {KEY_ENV}, as new,old)",
            )
        )
        return False
    note(Finding(OK, "stored text", "the data key opens it"))
    return True


async def _encrypted_sample(db: Database) -> str | None:
    """One encrypted value as stored, if the database holds any."""
    from storage.models import Base  # the models name the encrypted columns

    async with db.engine.connect() as connection:
        for table, columns in encrypted_columns(Base.metadata):
            for column in columns:
                # The column as plain text, so the throwaway key decrypts nothing.
                raw = sa_column(column.name, Text)
                query = (
                    select(raw)
                    .select_from(sa_table(table.name, raw))
                    # A literal prefix, not a person's input.
                    .where(raw.like(PREFIX + "%"))
                    .limit(1)
                )
                stored = (await connection.execute(query)).scalar()
                if stored is not None:
                    return str(stored)
    return None


async def telegram_ready(settings: Settings) -> None:
    """Before `run`: getMe answers for the token (TelegramUnavailable, one line, if not).

    python-telegram-bot would find out too, but it logs a traceback before it gives up.
    """
    finding = await _telegram(settings)
    if finding.mark == FAILED:
        raise TelegramUnavailable(finding.detail)


async def _telegram(settings: Settings) -> Finding:
    if settings.telegram_bot_token is None:
        return Finding(SKIPPED, "Telegram", "TELEGRAM_BOT_TOKEN is not set, so not checked")
    base_url = settings.telegram_api_base_url
    token = settings.telegram_bot_token.get_secret_value()
    hide_token_in_logs(token)
    bot = Bot(
        token,
        base_url=base_url or DEFAULT_API,
        request=AiohttpRequest(read_timeout=TELEGRAM_SECONDS, connect_timeout=TELEGRAM_SECONDS),
    )
    try:
        async with asyncio.timeout(TELEGRAM_SECONDS * 2):
            await bot.initialize()  # asks getMe
        return Finding(OK, "Telegram", f"the token works: the bot is @{bot.username}")
    except (InvalidToken, NetworkError) as error:
        problem = telegram_problem(error, base_url)
        if problem is None:
            raise  # a refused request is our bug, not the configuration
        return Finding(FAILED, "Telegram", problem)
    except TimeoutError:
        where = (base_url or DEFAULT_API).removesuffix("/bot")
        return Finding(FAILED, "Telegram", f"{where} did not answer getMe in time")
    finally:
        await bot.shutdown()
