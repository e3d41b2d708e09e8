"""`samenopvoeden export pilot` and `export access-log`, in-process, on SQLite or PostgreSQL; and
the README's sequence (`demo --database`, then `export pilot`) as subprocesses."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, update

from bot.cli import main
from bot.demo import ORGANISATION as DEMO_ORGANISATION
from flows.access_log_export import COLUMNS
from flows.pilot_export import COMMAND_LINE
from storage.db import Database, is_sqlite
from storage.models import AccessLog, Organisation, Person
from tests.conftest import data_key, data_key_env, database_url, fresh_database
from tests.seed import seed

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def on(url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the database at `url` in its own event loop (the CLI makes its own too)."""

    async def go() -> T:
        db = Database(url, data_key=data_key(url))
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh database with two organisations of three placements each; everyone consented."""
    url = database_url(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SAMENOPVOEDEN_DATA_KEY", raising=False)
    for name, value in data_key_env(url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    now = dt.datetime.now(dt.UTC)

    async def make() -> dict[str, Any]:
        db = await fresh_database(url)
        try:
            ours = await seed(db, now=now, placements=3, weeks=2, patterns=("calm",))
            theirs = await seed(
                db, now=now, placements=3, weeks=2, patterns=("calm",),
                first_user_id=200_000, begeleider_user_id=2001,
            )  # fmt: skip
            async with db.session() as session:
                await session.execute(update(Person).values(research_consent=True))
                names = list(await session.scalars(select(Organisation.name).order_by("id")))
            return {"ours": ours, "theirs": theirs, "names": names}
        finally:
            await db.dispose()

    made = asyncio.run(make())
    return {"url": url, "tmp": tmp_path, **made}


def log_rows(url: str) -> list[AccessLog]:
    async def read(db: Database) -> list[AccessLog]:
        async with db.session() as session:
            return list(await session.scalars(select(AccessLog).order_by(AccessLog.id)))

    return on(url, read)


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert captured.out == ""
    return lines[0]


def test_pilot_export_writes_the_zip_and_logs_each_placement(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = world["tmp"] / "pilot.zip"
    assert main(["export", "pilot", "--organisation", world["names"][0], "--out", str(out)]) == 0
    assert "3 placement(s)" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        placements = archive.read("placements.csv").decode("utf-8").splitlines()
        assert "codebook.csv" in archive.namelist()
    assert len(placements) == 1 + 3
    rows = log_rows(world["url"])
    ours = sorted(world["ours"].placements["calm"])
    assert [(r.action, r.placement_id, r.actor_person_id, r.actor_label) for r in rows] == [
        ("pilot_export", pid, None, COMMAND_LINE) for pid in ours
    ]
    assert [p.name for p in world["tmp"].iterdir() if p.name.startswith(".tmp")] == []


@pytest.mark.parametrize(
    ("organisation", "out", "says"),
    [
        ("Nope", "pilot.zip", "no organisation named 'Nope'"),
        (None, "missing/pilot.zip", "does not exist"),
        (None, "pilot.csv", "--out must end in .zip"),
        (None, "/proc/pilot.zip", "cannot write"),  # the check passes as root; writing fails
    ],
)
def test_pilot_export_refusals_write_nothing(
    world: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    organisation: str | None,
    out: str,
    says: str,
) -> None:
    before = sorted(p.name for p in world["tmp"].iterdir())
    name = organisation or world["names"][0]
    assert main(["export", "pilot", "--organisation", name, "--out", out]) == 2
    line = one_line(capsys)
    assert line.startswith("samenopvoeden: ")
    assert says in line
    assert sorted(p.name for p in world["tmp"].iterdir()) == before
    assert not Path(out).exists()
    assert log_rows(world["url"]) == []


def test_pilot_export_refuses_a_folder_without_permission(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere; /proc covers the failing write")
    closed = world["tmp"] / "closed"
    closed.mkdir(mode=0o500)
    out = closed / "pilot.zip"
    assert main(["export", "pilot", "--organisation", world["names"][0], "--out", str(out)]) == 2
    assert "no permission" in one_line(capsys)
    assert not out.exists()
    assert log_rows(world["url"]) == []


def test_access_log_export_is_the_organisations_rows_and_logs_itself(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url = world["url"]
    ours, theirs = world["ours"], world["theirs"]
    now = dt.datetime.now(dt.UTC)
    today = now.date()

    async def add(db: Database) -> None:
        async with db.session() as session:
            mine = ours.placements["calm"][0]
            other = theirs.placements["calm"][0]
            session.add_all(
                [
                    AccessLog(
                        actor_person_id=ours.begeleider_person_id, actor_label="Bea (person 1)",
                        action="overview", subject=f"placement:{mine}", placement_id=mine, at=now,
                    ),
                    AccessLog(  # another organisation's placement: never in ours
                        actor_person_id=theirs.begeleider_person_id, actor_label="Bea (other)",
                        action="overview", subject=f"placement:{other}", placement_id=other,
                        at=now,
                    ),
                    AccessLog(  # our begeleider's own export: no placement
                        actor_person_id=ours.begeleider_person_id, actor_label="Bea (person 1)",
                        action="export_own_data", subject="person:1", placement_id=None, at=now,
                    ),
                    AccessLog(  # a placement that was erased since: still ours by its actor
                        actor_person_id=ours.begeleider_person_id, actor_label="Bea (person 1)",
                        action="weekly_digest", subject="placement:999999",
                        placement_id=999_999, at=now,
                    ),
                    AccessLog(  # before the period asked
                        actor_person_id=ours.begeleider_person_id, actor_label="Bea (person 1)",
                        action="overview", subject=f"placement:{mine}", placement_id=mine,
                        at=now - dt.timedelta(days=40),
                    ),
                ]
            )  # fmt: skip

    on(url, add)
    out = world["tmp"] / "log.csv"
    start = str(today - dt.timedelta(days=7))
    args = ["export", "access-log", "--organisation", world["names"][0], "--from", start]
    assert main([*args, "--to", str(today), "--out", str(out)]) == 0
    assert "3 row(s)" in capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["action"], r["placement"]) for r in rows] == [
        ("overview", str(ours.placements["calm"][0])),
        ("export_own_data", ""),
        ("weekly_digest", "999999"),
    ]
    assert all(r["at"].endswith("Z") and dt.datetime.fromisoformat(r["at"]) for r in rows)
    # The export itself is in the log, and in the next export.
    [own] = [r for r in log_rows(url) if r.action == "access_log_export"]
    organisation_id = on(url, _organisation_id(world["names"][0]))
    assert own.subject == f"organisation:{organisation_id} {start}..{today}"
    assert (own.actor_person_id, own.actor_label, own.placement_id) == (None, COMMAND_LINE, None)
    again = world["tmp"] / "again.csv"
    assert main([*args, "--to", str(today), "--out", str(again)]) == 0
    actions = [r["action"] for r in csv.DictReader(io.StringIO(again.read_text("utf-8")))]
    assert actions.count("access_log_export") == 1
    # The other organisation's export does not hold ours.
    theirs_out = world["tmp"] / "theirs.csv"
    other = ["export", "access-log", "--organisation", world["names"][1], "--from", start]
    assert main([*other, "--to", str(today), "--out", str(theirs_out)]) == 0
    theirs_rows = list(csv.DictReader(io.StringIO(theirs_out.read_text("utf-8"))))
    assert [r["action"] for r in theirs_rows] == ["overview"]


def _organisation_id(name: str) -> Callable[[Database], Awaitable[int]]:
    async def read(db: Database) -> int:
        async with db.session() as session:
            found = await session.scalar(select(Organisation.id).where(Organisation.name == name))
        assert found is not None
        return found

    return read


@pytest.mark.parametrize(
    ("start", "end", "says"),
    [
        ("2026-13-01", "2026-12-31", "--from must be a date as YYYY-MM-DD"),
        ("2026-12-01", "morgen", "--to must be a date as YYYY-MM-DD"),
        ("2026-12-31", "2026-12-01", "is after --to"),
    ],
)
def test_access_log_export_refuses_bad_dates(
    world: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    start: str,
    end: str,
    says: str,
) -> None:
    out = world["tmp"] / "log.csv"
    name = world["names"][0]
    command = ["export", "access-log", "--organisation", name, "--from", start, "--to", end]
    assert main([*command, "--out", str(out)]) == 2
    assert says in one_line(capsys)
    assert not out.exists()
    assert log_rows(world["url"]) == []


@pytest.mark.parametrize(
    ("organisation", "out"),
    [("Nope", "log.csv"), (None, "missing/log.csv"), (None, "log.zip")],
)
def test_access_log_export_refuses_unknown_organisation_and_bad_paths(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str], organisation: str | None, out: str
) -> None:
    name = organisation or world["names"][0]
    command = ["export", "access-log", "--organisation", name, "--from", "2026-01-01"]
    assert main([*command, "--to", "2026-12-31", "--out", out]) == 2
    one_line(capsys)
    assert not Path(out).exists()
    assert log_rows(world["url"]) == []


def test_readme_sequence_demo_then_pilot_export(tmp_path: Path) -> None:
    """`samenopvoeden demo --database sqlite:///demo.db && samenopvoeden export pilot ...`."""
    if not is_sqlite(database_url(tmp_path)):
        pytest.skip("the README's sequence is SQLite's; the PostgreSQL run covers the rest")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    # A fresh install: no DATABASE_URL, no key; the key file lands beside demo.db.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SAMENOPVOEDEN_", "TELEG", "DATABASE_URL"))
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "bot", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    demo = run("demo", "--database", url, "--output", str(tmp_path / "chart"))
    assert demo.returncode == 0, demo.stderr
    assert f"Its organisation is: {DEMO_ORGANISATION}" in demo.stdout
    out = tmp_path / "pilot.zip"
    assert f"samenopvoeden export pilot --database {url} " in demo.stdout
    export = run(
        "export", "pilot", "--database", url, "--organisation", DEMO_ORGANISATION,
        "--out", str(out),
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    with zipfile.ZipFile(out) as archive:
        assert {"README.txt", "codebook.csv", "weekly_results.csv"} <= set(archive.namelist())
        # In the demo Olga (ouder) said yes to research and Kees (gezinshuisouder) no: only she
        # is in it, by pseudonym, with her placement.
        rows = list(csv.DictReader(io.StringIO(archive.read("participants.csv").decode("utf-8"))))
        assert [row["side"] for row in rows] == ["ouder"]
        assert rows[0]["person"].startswith("P-")
        weekly = archive.read("weekly_results.csv").decode("utf-8")
        assert "gezinshuisouder" not in weekly
        assert "Olga" not in weekly
    # Twice on the same database: a clear answer, not a crash, and the data as it was.
    again = run("demo", "--database", url)
    assert again.returncode == 2
    assert "exists already" in again.stderr
    assert "Traceback" not in again.stderr


def test_database_option_reads_that_database(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # DATABASE_URL points at an empty file; --database at the organisation's.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{world['tmp'] / 'other.db'}")
    out = world["tmp"] / "pilot.zip"
    name = world["names"][0]
    command = ["export", "pilot", "--organisation", name, "--out", str(out)]
    assert main([*command, "--database", world["url"]]) == 0
    assert out.exists()
    out.unlink()
    capsys.readouterr()
    assert main([*command, "--database", "mysql://db/x"]) == 2
    assert one_line(capsys).startswith("samenopvoeden: --database: ")
    assert not out.exists()
