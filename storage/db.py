"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from storage.crypto import (
    DataKeyError,
    Keyring,
    bind_keyring,
    key_file_for,
    load_or_create_key_file,
    missing_key_message,
    new_key,
    parse_keys,
    reencrypt,
    replace_key_file,
)
from storage.inline_sqlite import inline_creator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5_000
# Seconds to wait for PostgreSQL to accept a connection (asyncpg's own default is 60).
CONNECT_TIMEOUT = 10.0
URL_FORMS = "sqlite:///path/to/file.db or postgresql://user:password@host:5432/name"
POSTGRES_EXTRA = 'pip install "samenopvoeden[postgres]"'


class DatabaseUnavailable(Exception):
    """The database cannot be opened or reached; the one-line message says what to change."""


def async_url(url: str) -> str:
    """Return the URL with an async driver: aiosqlite for SQLite, asyncpg for PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"is not a database URL; write it as {URL_FORMS}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database {backend!r}; write it as {URL_FORMS}")
    return parsed.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """The URL as it may be printed: the password hidden, the driver as the person wrote it."""
    parsed = make_url(url)
    parsed = parsed.set(drivername=parsed.get_backend_name())
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    args, connect_args = parsed.get_dialect()().create_connect_args(parsed)
    path = _sqlite_file(args, connect_args)
    return Path(path) if path is not None else None


def _causes(error: BaseException) -> list[BaseException]:
    """The error, what SQLAlchemy wrapped in it, and what caused those (nearest first)."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo and len(found) < 12:
        current = todo.pop(0)
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return found


# asyncpg's errors for a connection PostgreSQL itself refuses (wrong password, no such
# database or role, not ready, full), by name: asyncpg may not be installed at all.
_REFUSALS = {
    "InvalidPasswordError",
    "InvalidAuthorizationSpecificationError",
    "InvalidCatalogNameError",
    "CannotConnectNowError",
    "TooManyConnectionsError",
}


def explain_database_error(
    error: BaseException, url: str, timeout: float = CONNECT_TIMEOUT
) -> str | None:
    """One line for a failure to open or reach the database that the configuration causes.

    None when the error is something else (a bug should keep its traceback).
    """
    causes = _causes(error)
    path = sqlite_path(url)
    if path is not None:
        for cause in causes:
            unopened = isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(
                cause
            )
            if unopened or isinstance(cause, PermissionError):
                return _sqlite_problem(path, cause)
            if isinstance(cause, sqlite3.DatabaseError) and "not a database" in str(cause):
                return f"{path} is not a SQLite database (DATABASE_URL)"
        return None
    if path is None and is_sqlite(url):
        return None  # in memory: nothing a person configured can fail
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    for cause in causes:
        if isinstance(cause, ImportError) and "asyncpg" in str(cause):
            return f"PostgreSQL needs its driver asyncpg, which is not installed: {POSTGRES_EXTRA}"
        if type(cause).__name__ in _REFUSALS:
            return f"PostgreSQL at {where} refused the connection: {cause} (DATABASE_URL)"
        if isinstance(cause, socket.gaierror):
            return f"cannot reach PostgreSQL: the host {parsed.host!r} is unknown (DATABASE_URL)"
        if isinstance(cause, ConnectionRefusedError):
            return (
                f"cannot reach PostgreSQL at {where}: nothing listens there. Is it running, and "
                "are the host and port in DATABASE_URL right?"
            )
        if isinstance(cause, TimeoutError):
            return (
                f"PostgreSQL at {where} did not answer within {timeout:g} seconds: check the "
                "host and port in DATABASE_URL, and the network or firewall in between"
            )
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot reach PostgreSQL at {where}: {cause.strerror} (DATABASE_URL)"
    return None


def _sqlite_problem(path: Path, cause: BaseException) -> str:
    folder = path.parent
    if not folder.is_dir():
        reason = f"the folder {folder} does not exist"
    elif isinstance(cause, PermissionError) or not os.access(folder, os.W_OK):
        name = getattr(cause, "filename", None) or folder
        reason = f"no permission to write {name}"
    elif path.exists() and not os.access(path, os.W_OK):
        reason = f"no permission to write {path}"
    else:
        reason = str(cause)
    return f"cannot open the SQLite database {path}: {reason} (DATABASE_URL)"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_on_connect(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers work while one writer commits; the busy timeout waits instead of
        # failing. Only another process (the CLI, a migration) can hold the lock while the bot
        # writes, as the bot's own transactions take turns on one connection; the wait
        # blocks the event loop, so it is seconds, not more.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Erased rows are overwritten with zeros, not left in the file's free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    return on_connect


def _sqlite_file(args: Sequence[Any], connect_args: Mapping[str, Any]) -> str | None:
    """The path of a SQLite database file, or None for an in-memory database."""
    name = str(args[0]) if args else ""
    if name in ("", ":memory:"):
        return None
    if connect_args.get("uri"):
        if "mode=memory" in name:
            return None
        name = name.removeprefix("file:").split("?", 1)[0]
    return name


def _private_files(path: str) -> None:
    """Create the database file readable by its owner only, before SQLite opens it.

    SQLite gives its -wal and -shm files the mode of the database file, so they follow.
    Files made before this rule (world-readable) are tightened.
    """
    if not Path(path).parent.is_dir():
        return  # SQLite will say it cannot open the file
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path, path + "-wal", path + "-shm"):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)


def _private_creator(path: str, inner: Callable[[], Awaitable[Any]]) -> Callable[[], Any]:
    async def create() -> Any:
        _private_files(path)
        connection = await inner()
        _private_files(path)  # the -wal and -shm SQLite may have made just now
        return connection

    return create


def resolve_keyring(url: str, data_key: str | None) -> tuple[Keyring, Path | None]:
    """The keys for free text at rest, and the key file they live in (SQLite only).

    A key given (SAMENOPVOEDEN_DATA_KEY) wins. Without one, a SQLite file gets a key file
    beside it on first start, in-memory SQLite a random key, and PostgreSQL refuses to start.
    """
    if data_key is not None and data_key.strip():
        return Keyring(parse_keys(data_key)), None
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise DataKeyError(missing_key_message())
    args, connect_args = parsed.get_dialect()().create_connect_args(parsed)
    path = _sqlite_file(args, connect_args)
    if path is None:
        return Keyring([new_key()]), None
    key_file = key_file_for(path)
    keyring = Keyring(loader=lambda: load_or_create_key_file(key_file))
    if key_file.parent.is_dir():
        keyring.load()  # at start: a broken key file stops the start, not the first answer
    return keyring, key_file


class Database:
    """One engine and its session factory; create it inside the event loop that uses it.

    `data_key` encrypts typed answers and meeting places (storage/crypto.py); without it see
    `resolve_keyring`.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
        data_key: str | None = None,
    ) -> None:
        self.url = async_url(url)
        try:
            self.keyring, self.key_file = resolve_keyring(self.url, data_key)
        except PermissionError as error:
            db_file = sqlite_path(self.url)
            assert db_file is not None  # only a SQLite key file is written here
            raise DatabaseUnavailable(_sqlite_problem(db_file, error)) from None
        # Parameters are names and answers: never in logs or exception messages.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if is_sqlite(self.url):
            # One connection, its calls run on the loop (storage/inline_sqlite.py says why).
            parsed = make_url(self.url)
            args, connect_args = parsed.get_dialect()().create_connect_args(parsed)
            connect_args["check_same_thread"] = False  # the pool may close it from elsewhere
            creator = inline_creator(args[0], connect_args)
            path = _sqlite_file(args, connect_args)
            if path is not None:
                creator = _private_creator(path, creator)
            kwargs.update(
                async_creator=creator,
                poolclass=AsyncAdaptedQueuePool,
                pool_size=1,
                max_overflow=0,
            )
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT}
        try:
            self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        except ImportError as error:
            message = explain_database_error(error, self.url)
            if message is None:
                raise
            raise DatabaseUnavailable(message) from None
        bind_keyring(self.engine.sync_engine.dialect, self.keyring)
        if is_sqlite(self.url):
            on_connect = _sqlite_on_connect(sqlite_busy_timeout_ms)
            event.listen(self.engine.sync_engine, "connect", on_connect)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    async def ping(self, seconds: float = CONNECT_TIMEOUT) -> None:
        """Connect and ask `SELECT 1` within `seconds`; DatabaseUnavailable (one line) when
        the configuration makes that fail."""
        try:
            async with asyncio.timeout(seconds), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            message = explain_database_error(error, self.url, seconds)
            if message is None:
                raise
            raise DatabaseUnavailable(message) from None

    async def revisions(self) -> tuple[str | None, list[str]]:
        """The migration the database is at (None: none applied) and all this version knows,
        oldest first (the last is the newest)."""
        from alembic.script import ScriptDirectory  # only the checks need it

        script = ScriptDirectory.from_config(alembic_config())
        known = [revision.revision for revision in script.walk_revisions()][::-1]
        async with self.engine.connect() as connection:
            current = await connection.run_sync(_current_revision)
        return current, known

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction; commit on success, roll back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` on this engine."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_run_upgrade, revision)

    async def rotate_key(self, new: str | None = None, *, page: int = 500) -> str:
        """Re-encrypt all free text with a new key (given, or made here) and return that key.

        One transaction: before its commit the old key reads every row, after it only the
        new. A key file holds both keys (new first) while the transaction runs, so a crash at
        any moment leaves a file that opens the rows; then only the new key.
        """
        from storage.models import Base  # the models' metadata names the encrypted columns

        key = parse_keys(new)[0] if new is not None else new_key()
        old = self.keyring
        both = [key, *(k for k in old.keys if k != key)]
        if self.key_file is not None:
            replace_key_file(self.key_file, both)
        try:
            async with self.engine.begin() as connection:
                await reencrypt(connection, Base.metadata, old, Keyring([key]), page=page)
        except BaseException:
            if self.key_file is not None:
                replace_key_file(self.key_file, old.keys)
            raise
        if self.key_file is not None:
            replace_key_file(self.key_file, [key])
        self.keyring = Keyring([key])
        bind_keyring(self.engine.sync_engine.dialect, self.keyring)
        return key

    async def dispose(self) -> None:
        await self.engine.dispose()


def dialect_insert(session: AsyncSession) -> Any:
    """The INSERT construct of the session's database: both have ON CONFLICT DO NOTHING."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return pg_insert if dialect == "postgresql" else sqlite_insert


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        # env.py uses this connection instead of making its own (alembic's asyncio cookbook).
        config.attributes["connection"] = connection
    return config


def _current_revision(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _run_upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)
