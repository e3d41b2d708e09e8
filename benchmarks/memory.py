"""Peak memory of `python -m bot run`, idle and after a burst of button presses.

Run from the project root::

    python -m benchmarks.memory                  # 100 and 10,000 participants
    python -m benchmarks.memory --counts 100     # your own sizes

Each run: a fresh SQLite file with N participants (ouders; 100 of them have their weekly check-in
moment now, the rest three days later, two per placement), the real process
(`python -X importtime -m bot run`) against a sandbox in this process. Its own clock plans and
sends the 100 check-ins; "idle" is read from /proc/<pid>/status 5 s after polling started and
once those are sent; then 1,000 presses (10 each from the 100, on their check-in's answer
buttons) are queued at once, and the figures are read again when every press has been answered.

matplotlib must not be loaded by a bot that only chats: checked in the process's
`-X importtime` output (every module it imported, on stderr) and in /proc/<pid>/maps (its
compiled extensions), at idle and after the burst.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update

from bot.sandbox import Sandbox
from storage.db import Database
from storage.models import Organisation
from tests.e2e.test_delivery import FIRST_CHAT, Seeded, seed

TOKEN = "123456:SANDBOX-TOKEN-FOR-THE-MEMORY-BENCHMARK"  # noqa: S105 - a fake for the sandbox
DUE_NOW = 100
PRESSES_EACH = 10
IDLE_AFTER = 5.0
SKIP_LABEL = "overslaan"


@dataclass
class Reading:
    rss_kib: int
    hwm_kib: int
    matplotlib_imported: bool
    matplotlib_mapped: bool

    def line(self, label: str) -> str:
        return (
            f"{label:<12} VmRSS {self.rss_kib / 1024:7.1f} MiB"
            f"   VmHWM {self.hwm_kib / 1024:7.1f} MiB"
            f"   matplotlib imported: {'yes' if self.matplotlib_imported else 'no'}"
            f" (mapped: {'yes' if self.matplotlib_mapped else 'no'})"
        )


def read(pid: int, importtime_log: Path) -> Reading:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    imported = any(
        "import time:" in line and "matplotlib" in line
        for line in importtime_log.read_text(errors="replace").splitlines()
    )
    mapped = "matplotlib" in Path(f"/proc/{pid}/maps").read_text()
    return Reading(fields["VmRSS"], fields["VmHWM"], imported, mapped)


def daytime_zone(now: dt.datetime) -> str:
    """A time zone where it is daytime now: the run uses the real clock, and nothing is sent
    during quiet hours (21:30-08:00 local)."""
    for offset in range(0, 24):
        hours = offset if offset <= 14 else offset - 24  # UTC-9 .. UTC+14
        if 10 <= (now.hour + hours) % 24 < 18:
            return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # POSIX signs are reversed
    raise AssertionError("unreachable")


async def seed_file(path: Path, count: int, now: dt.datetime) -> Seeded:
    db = Database(f"sqlite:///{path}")
    try:
        await db.upgrade()
        zone = daytime_zone(now)
        due = await seed(db, min(count, DUE_NOW), now=now, zone=zone)
        if count > DUE_NOW:
            async with db.session() as session:  # organisation names are unique
                await session.execute(update(Organisation).values(name="Due now"))
            # The rest: a check-in moment three days on (nothing to send now), own placement.
            await seed(
                db,
                count - DUE_NOW,
                now=now + dt.timedelta(days=3),
                zone=zone,
                first_chat=FIRST_CHAT + 1_000_000,
                begeleider_on_telegram=False,
                per_placement=2,  # as in life: two ouders per youth
            )
        return due
    finally:
        await db.dispose()


def print_errors(log: Path) -> None:
    """What the bot process said on stderr (besides the import times)."""
    lines = [x for x in log.read_text(errors="replace").splitlines() if "import time:" not in x]
    print("\n".join(lines[-40:]), file=sys.stderr)


async def wait_until(condition: Callable[[], object], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def run(count: int, folder: Path) -> tuple[Reading, Reading, float, float]:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db_path = folder / f"memory-{count}.db"
    started = time.perf_counter()
    seeded = await seed_file(db_path, count, now)
    print(f"  seeded {count} participants in {time.perf_counter() - started:.1f} s", flush=True)
    log = folder / f"importtime-{count}.log"
    async with Sandbox(token=TOKEN, quiet_period=0.05, flood_limits=False) as sandbox:
        sandbox.person(seeded.begeleider_chat, "Bea", started=True)
        people = [sandbox.person(chat, f"Ouder{chat}", started=True) for chat in seeded.chats]
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": sandbox.base_url,
            "DATABASE_URL": f"sqlite:///{db_path}",
        }
        with log.open("w") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-X",
                "importtime",
                "-m",
                "bot",
                "run",
                env=env,
                cwd=folder,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            await wait_until(lambda: sandbox.calls_to("getUpdates"), 60, "the bot never polled")
            polling = time.monotonic()
            try:
                await wait_until(
                    lambda: all(p.bot_messages and p.last.buttons for p in people),
                    120,
                    "the check-ins were not all sent",
                )
            except TimeoutError:
                print_errors(log)
                raise
            await asyncio.sleep(max(0.0, polling + IDLE_AFTER - time.monotonic()))
            idle = read(process.pid, log)

            before = sandbox.stats.calls["answerCallbackQuery"]
            burst_started = time.perf_counter()
            for n in range(PRESSES_EACH):
                for person in people:
                    message = person.last if n == 0 else person.message(targets[person.user_id])
                    if n == 0:
                        targets[person.user_id] = message.message_id
                    data = [
                        d
                        for row in message.buttons
                        for label, d in row
                        if isinstance(d, str) and SKIP_LABEL not in label
                    ]
                    choice = data[n % len(data)]
                    sandbox.api.person_click(person._chat, message, choice, choice)
            sandbox.notify()
            total = before + PRESSES_EACH * len(people)
            await wait_until(
                lambda: sandbox.stats.calls["answerCallbackQuery"] >= total,
                300,
                "the burst was not all answered",
            )
            burst_seconds = time.perf_counter() - burst_started
            after = read(process.pid, log)
            errors = len(sandbox.bot_errors)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=20)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    if errors:
        print(f"  {errors} Bot API errors from the bot", flush=True)
    return idle, after, burst_seconds, polling - started


targets: dict[int, int] = {}


async def main(counts: list[int]) -> None:
    from benchmarks.fanout import machine

    print(f"machine: {machine()}")
    print(f"process: {sys.executable} -X importtime -m bot run (SQLite, sandbox in this process)")
    with tempfile.TemporaryDirectory() as name:
        for count in counts:
            targets.clear()
            print(f"N = {count} participants ({min(count, DUE_NOW)} with a check-in now):")
            idle, after, seconds, _ = await run(count, Path(name))
            print("  " + idle.line("idle"))
            presses = PRESSES_EACH * min(count, DUE_NOW)
            print("  " + after.line(f"{presses} presses"), f"  ({seconds:.1f} s)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--counts", nargs="+", type=int, default=[100, 10_000])
    asyncio.run(main(parser.parse_args().counts))
