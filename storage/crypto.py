"""Encryption at rest of free text: what people typed and where they meet.

Fernet (the `cryptography` library: AES-128-CBC with an HMAC-SHA256 over it, a random IV per
value) through MultiFernet, so a key file or SAMENOPVOEDEN_DATA_KEY may hold the new key first
and older ones after it while the rows are re-encrypted (`rotate_keys`). Stored values carry the
prefix `enc1:`; a value without it was written before encryption and is read as it is.

Keys belong to an engine, not to the process: `bind_keyring` registers one per engine dialect,
and `EncryptedText` looks it up through the `dialect` SQLAlchemy hands to it. So two databases
with different keys work side by side (tests, rotate-key).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import (
    Column,
    Dialect,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    select,
    update,
)
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.ext.asyncio import AsyncConnection

PREFIX = "enc1:"
KEY_ENV = "SAMENOPVOEDEN_DATA_KEY"
HOW_TO_MAKE_A_KEY = (
    "make one with `openssl rand -base64 32 | tr '+/' '-_'` (or "
    '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`)'
)


class DataKeyError(Exception):
    """The data key is missing, malformed or does not open the stored text."""


def new_key() -> str:
    """A fresh random data key (Fernet's form: 32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode()


def parse_keys(value: str) -> list[str]:
    """The keys in a key setting or key file: comma or newline separated, newest first."""
    keys = [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    if not keys:
        raise DataKeyError(f"the data key is empty; {HOW_TO_MAKE_A_KEY}")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # Never echo the key itself: it is a secret, even when it is wrong.
            raise DataKeyError(
                "the data key is not a valid key (32 bytes in URL-safe base64, 44 characters); "
                + HOW_TO_MAKE_A_KEY
            ) from None
    return keys


class Keyring:
    """The keys of one database: the first encrypts, all decrypt.

    Made from keys, or from a loader that is called on first use (a SQLite key file is made
    beside the database when it is first opened, so a folder that does not exist yet fails
    where SQLite fails, not earlier).
    """

    def __init__(
        self, keys: Sequence[str] | None = None, *, loader: Callable[[], list[str]] | None = None
    ) -> None:
        if keys is None and loader is None:
            raise ValueError("give keys or a loader")
        self._loader = loader
        self._fernet: MultiFernet | None = None
        self._keys: list[str] = []
        if keys is not None:
            self._set(list(keys))

    def _set(self, keys: list[str]) -> None:
        self._keys = parse_keys(",".join(keys))
        self._fernet = MultiFernet([Fernet(key) for key in self._keys])

    def load(self) -> MultiFernet:
        if self._fernet is None:
            assert self._loader is not None
            self._set(self._loader())
        assert self._fernet is not None
        return self._fernet

    @property
    def keys(self) -> list[str]:
        self.load()
        return list(self._keys)

    def encrypt(self, plain: str) -> str:
        return PREFIX + self.load().encrypt(plain.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption at rest: plain text
        try:
            return self.load().decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise DataKeyError(
                f"stored text cannot be decrypted with this data key ({KEY_ENV} or the key "
                "file beside the SQLite database): it was written with another key"
            ) from None


_KEYRINGS: weakref.WeakKeyDictionary[Dialect, Keyring] = weakref.WeakKeyDictionary()


def bind_keyring(dialect: Dialect, keyring: Keyring) -> None:
    """Use `keyring` for the encrypted columns of every statement of this engine's dialect."""
    _KEYRINGS[dialect] = keyring


def keyring_of(dialect: Dialect) -> Keyring:
    try:
        return _KEYRINGS[dialect]
    except KeyError:
        # Storing plain text where encryption was promised would be worse than failing.
        raise DataKeyError(
            "this engine has no data key: open the database through storage.db.Database"
        ) from None


class EncryptedText(TypeDecorator[str]):
    """Text that is encrypted on the way in and decrypted on the way out (DDL stays Text)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring_of(dialect).encrypt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not str(value).startswith(PREFIX):
            return str(value)  # legacy plain text needs no key
        return keyring_of(dialect).decrypt(str(value))


# --- where the key comes from -------------------------------------------------------------


def key_file_for(database_path: str) -> Path:
    """The key file of a SQLite database file: beside it, with `.key` added."""
    return Path(database_path + ".key")


def read_key_file(path: Path) -> list[str]:
    try:
        return parse_keys(path.read_text(encoding="ascii"))
    except DataKeyError as error:
        raise DataKeyError(f"key file {path}: {error}") from None


def load_or_create_key_file(path: Path) -> list[str]:
    """The keys in `path`; on first start a new key, written there readable by the owner only.

    O_EXCL makes two processes that start at once agree: one creates the file, the other
    finds it. The key is written to a private temporary file first and linked into place, so
    nobody ever reads a half-written key file.
    """
    if path.exists():
        return read_key_file(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    _write_private(temporary, new_key() + "\n")
    try:
        os.link(temporary, path)  # fails if another process made it first
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return read_key_file(path)


def replace_key_file(path: Path, keys: Sequence[str]) -> None:
    """Write `keys` (newest first) to `path` atomically: the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    _write_private(temporary, "\n".join(keys) + "\n")
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def _write_private(path: Path, content: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be synced
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def missing_key_message() -> str:
    return (
        f"{KEY_ENV} is not set. On PostgreSQL the bot needs the key that encrypts typed answers "
        f"and meeting places: {HOW_TO_MAKE_A_KEY}, set it in every instance's environment and "
        "keep a copy safe (without it the stored text cannot be read)."
    )


# --- re-encryption ------------------------------------------------------------------------


def encrypted_columns(metadata: MetaData) -> list[tuple[Table, list[Column[Any]]]]:
    """Every table with encrypted columns, from the models' metadata (a new one is found)."""
    found = []
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, EncryptedText)]
        if columns:
            found.append((table, columns))
    return found


async def reencrypt(
    connection: AsyncConnection,
    metadata: MetaData,
    old: Keyring,
    new: Keyring,
    page: int = 500,
) -> int:
    """Re-encrypt every encrypted value from `old` to `new` on `connection`; return the count.

    Legacy plain text is encrypted too. Rows are read in pages by id, so a large table does not
    sit in memory; the caller's transaction makes it all or nothing.
    """
    changed = 0
    for table, columns in encrypted_columns(metadata):
        names = [column.name for column in columns]
        # The columns as plain text: this code decrypts and encrypts with two keyrings itself.
        raw = sa_table(table.name, sa_column("id"), *(sa_column(name, Text) for name in names))
        pick = select(raw.c.id, *(raw.c[name] for name in names)).order_by(raw.c.id).limit(page)
        put = (
            update(raw)
            .where(raw.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        last: int | None = None
        while True:
            statement = pick if last is None else pick.where(raw.c.id > last)
            rows = (await connection.execute(statement)).all()
            if not rows:
                break
            values = []
            for row in rows:
                stored = dict(zip(names, row[1:], strict=True))
                values.append(
                    {"row_id": row[0]}
                    | {
                        f"new_{name}": None if value is None else new.encrypt(old.decrypt(value))
                        for name, value in stored.items()
                    }
                )
                changed += sum(value is not None for value in stored.values())
            await connection.execute(put, values)
            last = rows[-1][0]
    return changed
