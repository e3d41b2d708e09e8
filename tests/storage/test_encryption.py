"""Free text at rest: ciphertext in the columns, plain through the ORM; keys, rotation."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage import db as storage_db
from storage.crypto import (
    PREFIX,
    DataKeyError,
    Keyring,
    load_or_create_key_file,
    new_key,
    parse_keys,
)
from storage.db import Database, resolve_keyring
from storage.models import Answer, Meeting, MeetingStatus, Organisation
from tests.conftest import START
from tests.seed import seed

MARKER = "Markeer-ZX81 Sam slaapt slecht"


async def add_meetings(db: Database, *places: str | None) -> list[int]:
    """Meetings of one organisation with these places, through the ORM."""
    async with db.session() as session:
        organisation = Organisation(name=f"Org {new_key()[:6]}", created_at=START)
        session.add(organisation)
        await session.flush()
        meetings = [
            Meeting(
                organisation_id=organisation.id,
                type="intervisie",
                starts_at=START,
                location=place,
                status=MeetingStatus.PLANNED,
                created_at=START,
                updated_at=START,
            )
            for place in places
        ]
        session.add_all(meetings)
    return [meeting.id for meeting in meetings]


async def raw_places(db: Database) -> list[str | None]:
    async with db.session() as session:
        return list(
            (await session.execute(text("SELECT location FROM meeting ORDER BY id"))).scalars()
        )


async def places(db: Database) -> list[str | None]:
    async with db.session() as session:
        return list(await session.scalars(select(Meeting.location).order_by(Meeting.id)))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_a_meeting_place_is_ciphertext_in_the_column_and_plain_through_the_orm(
    db: Database,
) -> None:
    await add_meetings(db, MARKER, None)
    [stored, empty] = await raw_places(db)
    assert stored is not None
    assert stored.startswith(PREFIX)
    assert MARKER not in stored
    assert "ZX81" not in stored
    assert empty is None
    assert await places(db) == [MARKER, None]  # a Core select of the column
    async with db.session() as session:  # and ORM objects
        assert [m.location for m in await session.scalars(select(Meeting))] == [MARKER, None]
    # The same text twice gives two different ciphertexts (a random IV each time).
    await add_meetings(db, MARKER)
    raw = await raw_places(db)
    assert raw[0] != raw[2]


async def test_core_updates_and_inserts_of_answers_encrypt_too(db: Database) -> None:
    await seed(db, now=START, placements=1, weeks=1)
    async with db.session() as session:
        first = await session.scalar(select(Answer.id).order_by(Answer.id).limit(1))
        await session.execute(update(Answer).where(Answer.id == first).values(text=MARKER))
    async with db.session() as session:
        raw = (await session.execute(text("SELECT text FROM answer WHERE text IS NOT NULL"))).all()
        assert len(raw) == 1
        assert raw[0][0].startswith(PREFIX)
        assert MARKER not in raw[0][0]
        assert await session.scalar(select(Answer.text).where(Answer.id == first)) == MARKER


async def test_text_written_before_encryption_still_loads(db: Database) -> None:
    [meeting] = await add_meetings(db, "kantoor Zuid")
    async with db.session() as session:
        await session.execute(
            text("UPDATE meeting SET location = :place WHERE id = :id"),
            {"place": "buurthuis (van vroeger)", "id": meeting},
        )
    assert await places(db) == ["buurthuis (van vroeger)"]


async def test_a_wrong_key_gives_a_clear_error_not_garbage(db: Database) -> None:
    await add_meetings(db, MARKER)
    other = Database(db.url, data_key=new_key())
    try:
        with pytest.raises(DataKeyError, match="cannot be decrypted with this data key"):
            await places(other)
    finally:
        await other.dispose()


async def test_two_databases_with_different_keys_work_side_by_side(tmp_path: Path) -> None:
    first = Database(f"sqlite:///{tmp_path / 'one.db'}")
    second = Database(f"sqlite:///{tmp_path / 'two.db'}", data_key=new_key())
    try:
        await first.upgrade()
        await second.upgrade()
        await add_meetings(first, "eerste plek")
        await add_meetings(second, "tweede plek")
        assert first.keyring.keys != second.keyring.keys
        assert await places(first) == ["eerste plek"]
        assert await places(second) == ["tweede plek"]
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_key_file_is_made_private_on_first_start_and_reused_after(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    key_file = tmp_path / "bot.db.key"
    old_umask = os.umask(0o022)  # a usual umask: files would be world-readable
    try:
        first = Database(url)
        await first.upgrade()
        await add_meetings(first, MARKER)
        assert mode(key_file) == 0o600
        for name in ("bot.db", "bot.db-wal", "bot.db-shm"):
            assert (tmp_path / name).exists(), name
            assert mode(tmp_path / name) == 0o600, name
        key = key_file.read_text()
        await first.dispose()
    finally:
        os.umask(old_umask)
    assert MARKER.encode() not in (tmp_path / "bot.db").read_bytes()

    second = Database(url)
    try:
        assert await places(second) == [MARKER]
        assert key_file.read_text() == key
        assert second.key_file == key_file
    finally:
        await second.dispose()


async def test_a_world_readable_database_file_from_before_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    db = Database(f"sqlite:///{path}")
    try:
        await db.upgrade()
    finally:
        await db.dispose()
    assert mode(path) == 0o600


def test_two_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "race.db.key"
    found: list[list[str]] = []
    start = threading.Barrier(8)

    def starting() -> None:
        start.wait()
        found.append(load_or_create_key_file(key_file))

    threads = [threading.Thread(target=starting) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8
    assert all(keys == found[0] for keys in found)
    assert read_keys(key_file) == found[0]
    assert [p.name for p in tmp_path.iterdir()] == ["race.db.key"]  # no temporary files left


def read_keys(path: Path) -> list[str]:
    return parse_keys(path.read_text())


def test_postgresql_without_a_key_refuses_and_says_how_to_make_one() -> None:
    with pytest.raises(DataKeyError) as refused:
        resolve_keyring("postgresql://bot@db.example.org/samenopvoeden", None)
    message = str(refused.value)
    assert "SAMENOPVOEDEN_DATA_KEY is not set" in message
    assert "openssl rand -base64 32" in message
    with pytest.raises(DataKeyError):
        Database("postgresql://bot@db.example.org/samenopvoeden")


def test_in_memory_sqlite_gets_a_random_key_and_no_key_file() -> None:
    first, file = resolve_keyring("sqlite://", None)
    second, _ = resolve_keyring("sqlite:///:memory:", None)
    assert file is None
    assert first.keys != second.keys


def test_a_malformed_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(DataKeyError, match="not a valid key") as refused:
        Keyring(["geheim-maar-te-kort"])
    assert "geheim-maar-te-kort" not in str(refused.value)


async def test_rotation_re_encrypts_every_row_the_old_key_no_longer_reads_them(
    db: Database,
) -> None:
    await seed(db, now=START, placements=2, weeks=2)
    async with db.session() as session:
        ids = list(await session.scalars(select(Answer.id).order_by(Answer.id).limit(5)))
        for number, answer_id in enumerate(ids):
            await session.execute(
                update(Answer).where(Answer.id == answer_id).values(text=f"{MARKER} {number}")
            )
    meetings = await add_meetings(db, "kantoor Zuid", None, "buurthuis", "oud", "vroeger")
    async with db.session() as session:  # two legacy plain rows, as before encryption
        await session.execute(
            text("UPDATE meeting SET location = 'oud plain' WHERE id = :id"), {"id": meetings[3]}
        )
        await session.execute(
            text("UPDATE answer SET text = 'oud antwoord' WHERE id = :id"), {"id": ids[-1]}
        )
    expected_places = await places(db)
    assert "oud plain" in expected_places
    old = ",".join(db.keyring.keys)

    key = await db.rotate_key(page=2)  # small pages, so paging is exercised

    assert key not in old.split(",")
    assert await places(db) == expected_places
    async with db.session() as session:
        texts = list(await session.scalars(select(Answer.text).where(Answer.id.in_(ids))))
        found = await session.execute(text("SELECT text FROM answer WHERE text IS NOT NULL"))
        raw = list(found.scalars())
    raw += [p for p in await raw_places(db) if p is not None]
    assert sorted(texts) == sorted([f"{MARKER} {n}" for n in range(4)] + ["oud antwoord"])
    assert len(raw) == 5 + 4
    assert all(value.startswith(PREFIX) for value in raw)  # legacy rows encrypted as well

    with_old = Database(db.url, data_key=old)
    with_new = Database(db.url, data_key=key)
    try:
        with pytest.raises(DataKeyError):
            await places(with_old)
        assert await places(with_new) == expected_places
    finally:
        await with_old.dispose()
        await with_new.dispose()
    if db.key_file is not None:
        assert read_keys(db.key_file) == [key]


async def test_a_rotation_that_fails_midway_leaves_a_key_file_that_opens_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db = Database(url)
    await db.upgrade()
    await add_meetings(db, *(f"plek {n}" for n in range(7)))
    assert db.key_file is not None
    old = read_keys(db.key_file)
    real = storage_db.reencrypt
    seen_during: list[list[str]] = []

    async def crash_after_a_page(connection, metadata, before, after, page=500):  # type: ignore[no-untyped-def]
        assert db.key_file is not None
        seen_during.append(read_keys(db.key_file))
        await real(connection, metadata, before, after, page=page)  # the work, then the crash
        raise OSError("power cut")

    monkeypatch.setattr(storage_db, "reencrypt", crash_after_a_page)
    with pytest.raises(OSError, match="power cut"):
        await db.rotate_key()
    [during] = seen_during
    assert len(during) == 2
    assert during[1:] == old  # the new key first, the old one still there
    assert read_keys(db.key_file) == old  # rolled back: the old key again
    await db.dispose()
    again = Database(url)
    try:
        assert await places(again) == [f"plek {n}" for n in range(7)]
    finally:
        await again.dispose()


async def test_sql_parameters_never_reach_error_messages_or_logs(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with db.session() as session:
        await session.execute(insert(Organisation).values(name=MARKER, created_at=START))
    with pytest.raises(IntegrityError) as failed:
        async with db.session() as session:
            await session.execute(insert(Organisation).values(name=MARKER, created_at=START))
    assert MARKER not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
    assert MARKER not in caplog.text


async def test_erased_rows_do_not_linger_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "erase.db"
    db = Database(f"sqlite:///{path}")
    try:
        await db.upgrade()
        async with db.session() as session:
            await session.execute(insert(Organisation).values(name=MARKER, created_at=START))
        async with db.session() as session:
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        assert MARKER.encode() in path.read_bytes()  # really written to the file
        async with db.session() as session:
            await session.execute(text("DELETE FROM organisation"))
        async with db.session() as session:
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        await db.dispose()
    assert MARKER.encode() not in path.read_bytes()  # zeroed, not left in a free page
