"""`samenopvoeden demo`: a short story in the sandbox, printed as each person saw it.

The real bot runs against the built-in fake Telegram on a temporary SQLite file; nothing leaves
this machine and no token is needed. A fake clock walks through one week.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import AnyApplication, build_application, start_polling, stop_polling, tick
from bot.clock import FakeClock, SystemClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows.contact import set_organisation_phone
from flows.invites import add_organisation, create_staff_invite
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import Organisation, Role, TelegramLink

ORGANISATION = "Gezinshuizen Zuid"
PHONE = "088 123 45 67"  # a made-up number in the form people know
ZONE = ZoneInfo("Europe/Amsterdam")
CODE = re.compile(r"\?start=([A-Za-z0-9_-]+)")
DEMO_USERS = (1001, 2001, 3001, 5001)  # Bea, Olga, Kees and Cora in the sandbox


async def run_demo(
    output: str | None = None, data_key: str | None = None, database_url: str | None = None
) -> int:
    """Play the story and print it as one timeline; return the exit code.

    With `database_url` the story is played in that database (migrated first) and its data
    stays there, e.g. to try `samenopvoeden export pilot` on it; without, in a temporary file.
    """
    with tempfile.TemporaryDirectory(prefix="samenopvoeden-demo-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        database = Database(url, data_key=data_key)
        try:
            await database.upgrade()
            taken = await _taken(database)
        except BaseException:
            await database.dispose()
            raise
        if taken:
            await database.dispose()
            print(f"samenopvoeden: {taken}; use a new database file", file=sys.stderr)
            return 2
        route = RouteSettings()
        clock = FakeClock(_this_monday(10))
        # The sandbox dates its messages by the story's clock, so the timeline shows its days.
        async with Sandbox(clock=lambda: clock.now().timestamp()) as sandbox:
            application = build_application(
                token=sandbox.token,
                db=database,
                route=route,
                base_url=sandbox.base_url,
                clock=clock,
                clock_jobs=False,  # the story moves the clock itself
            )
            _track_updates(application, sandbox)
            await start_polling(application, poll_timeout=2)
            try:
                people = await _story(application, sandbox, database, route, clock)
            finally:
                await stop_polling(application)
                await database.dispose()
        print(_header())
        labels = {person.user_id: label for person, label in people}
        print(sandbox.timeline(list(labels), labels, ZONE))
        chart = _save_chart(people[0][0], output)
        if chart is not None:
            print(f"\nThe chart in Bea's digest is saved as: {chart}")
        errors = sandbox.bot_errors
        if errors:
            print(f"\n{len(errors)} call(s) that Telegram would have refused:")
            for call in errors:
                print(f"  {call}")
            return 1
        print("\nEvery message was accepted by the sandbox, which checks Telegram's rules.")
        if database_url:
            print(
                f"\nThe story's data stays in {database_url}.\n"
                f"Its organisation is: {ORGANISATION}\n"
                f"Try: samenopvoeden export pilot --database {database_url} "
                f'--organisation "{ORGANISATION}" --out pilot.zip'
            )
    return 0


async def _taken(database: Database) -> str | None:
    """Why the story cannot be played in this database (it was already), or None."""
    async with database.session() as session:
        if await session.scalar(select(Organisation.id).where(Organisation.name == ORGANISATION)):
            return f"the demo organisation {ORGANISATION!r} exists already in that database"
        linked = await session.scalar(
            select(TelegramLink.id).where(TelegramLink.telegram_user_id.in_(DEMO_USERS))
        )
        if linked:
            return "that database already has people with the demo's Telegram accounts"
    return None


def _track_updates(application: AnyApplication, sandbox: Sandbox) -> None:
    """Tell the sandbox while the bot still handles an update, so an action settles fully.

    Without it the sandbox may call an action done while the bot still waits to send a notice
    (the outbox spaces messages to one chat a second apart); the story's clock then moved on,
    and "Kees doet nu mee" reached Bea dated Sunday instead of Monday afternoon.
    """
    in_flight = 0
    handle = application.process_update

    async def process_update(update: object) -> None:
        nonlocal in_flight
        in_flight += 1
        try:
            await handle(update)
        finally:
            in_flight -= 1

    application.process_update = process_update  # type: ignore[method-assign]
    sandbox.busy = lambda: in_flight > 0


def _save_chart(begeleider: ChatPerson, output: str | None) -> Path | None:
    """Write the digest's chart (as the begeleider received it) to a new file.

    Without `output` into a fresh temporary folder, so two demos never share (or overwrite)
    one file and nothing lands in the working directory.
    """
    photos = [m.photo for m in begeleider.bot_messages if m.photo is not None]
    if not photos:
        return None
    if output:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="samenopvoeden-demo-chart-"))
    path = folder / "weekoverzicht.png"
    path.write_bytes(photos[-1].data)
    return path.resolve()


def _this_monday(hour: float) -> dt.datetime:
    today = SystemClock().now().astimezone(ZONE).date()
    monday = today - dt.timedelta(days=today.weekday())
    midnight = dt.datetime.combine(monday, dt.time(0), tzinfo=ZONE)
    return (midnight + dt.timedelta(hours=hour)).astimezone(dt.UTC)


async def _at(application: AnyApplication, clock: FakeClock, days: int, clock_time: str) -> None:
    """Move the clock to `days` after the story's Monday at `clock_time`, and let it beat.

    Wall-clock time in Amsterdam: the story's week may cross a change to or from summer time.
    """
    hours, minutes = (int(part) for part in clock_time.split(":"))
    today = _this_monday(0).astimezone(ZONE).date() + dt.timedelta(days=days)
    local = dt.datetime.combine(today, dt.time(hours, minutes), tzinfo=ZONE)
    clock.set(local.astimezone(dt.UTC))
    await tick(application)


async def _story(
    application: AnyApplication,
    sandbox: Sandbox,
    database: Database,
    route: RouteSettings,
    clock: FakeClock,
) -> list[tuple[ChatPerson, str]]:
    # Monday 10:00: the organisation's admin sets its phone number and invites a begeleider (as
    # `samenopvoeden admin set-phone` and `admin invite`); Bea opens the link and creates a
    # placement.
    async with database.session() as session:
        await add_organisation(session, ORGANISATION, clock.now())
        await set_organisation_phone(session, ORGANISATION, PHONE)
        invite = await create_staff_invite(
            session,
            organisation_name=ORGANISATION,
            role=Role.BEGELEIDER,
            name="Bea",
            now=clock.now(),
            settings=route,
        )
        # The organisation's coordinator too (`admin invite --role coordinator`).
        coordinator = await create_staff_invite(
            session,
            organisation_name=ORGANISATION,
            role=Role.COORDINATOR,
            name="Cora",
            now=clock.now(),
            settings=route,
        )
    bea = sandbox.person(DEMO_USERS[0], "Bea")
    await bea.send(f"/start {invite.code}")
    await bea.click("✅ Ja, ik doe mee")
    cora = sandbox.person(DEMO_USERS[3], "Cora")
    await cora.send(f"/start {coordinator.code}")
    await cora.click("✅ Ja, ik doe mee")

    await _at(application, clock, 0, "10:05")
    await bea.send("/nieuw")
    await bea.send("Sam")
    await bea.send("De Linde")
    created = await bea.send("vandaag")
    codes = dict(
        zip(
            ("ouder", "gezinshuisouder", "behandelaar"),
            CODE.findall(created[-1].text),
            strict=True,
        )
    )
    await _at(application, clock, 0, "10:06")  # the clock's next beat, half a minute later

    # Monday afternoon: Bea has sent the links; Olga and Kees open them.
    await _at(application, clock, 0, "13:40")
    olga = sandbox.person(DEMO_USERS[1], "Olga")
    await olga.send(f"/start {codes['ouder']}")
    await olga.click("✅ Ja, ik doe mee")
    await olga.click("Ja, dat mag")  # her answers may be used for the pilot, without her name
    await _at(application, clock, 0, "16:15")
    kees = sandbox.person(DEMO_USERS[2], "Kees")
    await kees.send(f"/start {codes['gezinshuisouder']}")
    await kees.click("✅ Ja, ik doe mee")
    await kees.click("Nee, liever niet")  # not for research: the pilot export leaves him out

    # Sunday 19:00: Olga's weekly questions. She changes one answer and writes a line.
    await _at(application, clock, 6, "19:00")
    await _at(application, clock, 6, "19:12")
    first = olga.last
    await olga.click("📱 App of telefoon", first)
    second = olga.last
    await olga.click("🙂", second)
    await _at(application, clock, 6, "19:13")
    await olga.click("😐", second)  # she changes her mind on the question before
    await olga.click("🙂")
    await olga.click("Een beetje")
    await olga.click("🙂")
    await _at(application, clock, 6, "19:16")
    await olga.send("Het contact gaat beter. Ik wil graag vaker foto's van Sam.")
    # Sunday 20:00: Kees's questions. He is busy and skips this week.
    await _at(application, clock, 6, "20:00")
    await _at(application, clock, 6, "20:41")
    await kees.click("Deze week overslaan")
    await kees.click("Druk")
    # Monday 08:00: Olga asks for contact, and Bea hears it at once.
    await _at(application, clock, 7, "08:02")
    await olga.send("/contact")
    # Monday 08:30: Bea's weekly digest of the week that ended, with a chart.
    await _at(application, clock, 7, "08:30")
    # Monday 09:00: Cora's weekly overview of the organisation, in numbers only.
    await _at(application, clock, 7, "09:00")
    return [
        (bea, "Bea (begeleider)"),
        (olga, "Olga (ouder van Sam)"),
        (kees, "Kees (gezinshuisouder van Sam)"),
        (cora, "Cora (coördinator)"),
    ]


def _header() -> str:
    return (
        "samenopvoeden demo — the real bot against the built-in sandbox (no Telegram, no token).\n"
        "Monday: a begeleider and the coordinator join; Bea creates a placement; a parent (yes\n"
        "to research) and a house parent (no to research) join. Sunday: their weekly questions.\n"
        "Monday: a contact request, Bea's weekly digest, then Cora's organisation overview.\n"
        "One timeline in Amsterdam time: each message as it arrived, each tap (↳) under the\n"
        "message it was made on, each change to a message (✎) when it was made.\n"
    )
