"""`samenopvoeden demo`: a short story in the sandbox, printed as each person saw it.

The real bot runs against the built-in fake Telegram on a temporary SQLite file; nothing leaves
this machine and no token is needed.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from bot.app import build_application, start_polling, stop_polling
from bot.clock import SystemClock
from bot.sandbox import Sandbox
from bot.sandbox.people import Person as ChatPerson
from flows.invites import add_organisation, create_staff_invite
from flows.settings import RouteSettings
from storage.db import Database
from storage.models import Role

ORGANISATION = "Gezinshuizen Zuid"
CODE = re.compile(r"\?start=([A-Za-z0-9_-]+)")


async def run_demo(output: str | None = None) -> int:
    """Play the story and print the conversations; return the exit code."""
    with tempfile.TemporaryDirectory(prefix="samenopvoeden-demo-") as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        await database.upgrade()
        route = RouteSettings()
        clock = SystemClock()
        async with Sandbox() as sandbox:
            application = build_application(
                token=sandbox.token,
                db=database,
                route=route,
                base_url=sandbox.base_url,
                clock=clock,
            )
            await start_polling(application, poll_timeout=2)
            try:
                people = await _story(sandbox, database, route, clock)
            finally:
                await stop_polling(application)
                await database.dispose()
        print(_header())
        print(
            sandbox.transcript(
                [p.user_id for p, _ in people], {p.user_id: label for p, label in people}
            )
        )
        errors = sandbox.bot_errors
        if errors:
            print(f"\n{len(errors)} call(s) that Telegram would have refused:")
            for call in errors:
                print(f"  {call}")
            return 1
        print("\nEvery message was accepted by the sandbox, which checks Telegram's rules.")
    return 0


async def _story(
    sandbox: Sandbox, database: Database, route: RouteSettings, clock: SystemClock
) -> list[tuple[ChatPerson, str]]:
    # The organisation's admin invites a begeleider (as `samenopvoeden admin invite` does).
    async with database.session() as session:
        await add_organisation(session, ORGANISATION, clock.now())
        invite = await create_staff_invite(
            session,
            organisation_name=ORGANISATION,
            role=Role.BEGELEIDER,
            name="Bea",
            now=clock.now(),
            settings=route,
        )
    bea = sandbox.person(1001, "Bea")
    await bea.send(f"/start {invite.code}")
    await bea.click("✅ Ja, ik doe mee")

    await bea.send("/nieuw")
    await bea.send("Sam")
    await bea.send("De Linde")
    created = await bea.send("1 maart 2026")
    codes = dict(
        zip(
            ("ouder", "gezinshuisouder", "behandelaar"),
            CODE.findall(created[-1].text),
            strict=True,
        )
    )

    olga = sandbox.person(2001, "Olga")
    await olga.send(f"/start {codes['ouder']}")
    await olga.click("✅ Ja, ik doe mee")

    kees = sandbox.person(3001, "Kees")
    await kees.send(f"/start {codes['gezinshuisouder']}")
    await kees.click("✅ Ja, ik doe mee")

    await bea.send("/plaatsingen")
    return [
        (bea, "Bea (begeleider)"),
        (olga, "Olga (ouder van Sam)"),
        (kees, "Kees (gezinshuisouder van Sam)"),
    ]


def _header() -> str:
    return (
        "samenopvoeden demo — the real bot against the built-in sandbox (no Telegram, no token).\n"
        "A begeleider joins and creates a placement; a parent and a house parent join.\n"
    )
