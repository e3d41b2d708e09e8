"""The `samenopvoeden` command: run the bot, migrate, administer, or play the demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from telegram import Update

from bot.app import build_application
from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.render import LANGUAGES, Renderer
from flows.contact import set_organisation_phone
from flows.invites import FlowError, add_organisation, create_staff_invite
from storage.crypto import KEY_ENV, DataKeyError
from storage.db import Database
from storage.models import Role


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
        result: int = args.handler(args, settings)
        return result
    except (ConfigError, FlowError, DataKeyError) as error:
        print(f"samenopvoeden: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samenopvoeden",
        description="Telegram bot for ouders and gezinshuisouders who raise a youth together.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve a webhook instead of polling (SAMENOPVOEDEN_WEBHOOK_URL, _SECRET, _PORT)",
    )
    run.set_defaults(handler=_run)

    table = commands.add_parser(
        "route", help="print the route: phases, questions, tips and meetings (for review)"
    )
    table.add_argument("--lang", choices=LANGUAGES, default="nl", help="language (default nl)")
    table.set_defaults(handler=_route)

    demo = commands.add_parser("demo", help="play a short story in the built-in sandbox")
    demo.add_argument("--output", default=None, help="folder for files the demo writes")
    demo.set_defaults(handler=_demo)

    db = commands.add_parser("db", help="database commands").add_subparsers(
        required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply the database migrations").set_defaults(
        handler=_db_upgrade
    )
    rotate = db.add_parser(
        "rotate-key", help="re-encrypt typed answers and meeting places with a new data key"
    )
    rotate.add_argument(
        "--new-key",
        default=None,
        help="the new key, given as --new-key=KEY since a key may start with -; default: fresh",
    )
    rotate.set_defaults(handler=_rotate_key)

    admin = commands.add_parser("admin", help="organisation admin commands").add_subparsers(
        required=True, metavar="ACTION"
    )
    add_org = admin.add_parser("add-organisation", help="add an organisation")
    add_org.add_argument("name")
    add_org.set_defaults(handler=_add_organisation)
    invite = admin.add_parser("invite", help="invite a begeleider or behandelaar")
    invite.add_argument("--organisation", required=True)
    invite.add_argument("--role", required=True, choices=["begeleider", "behandelaar"])
    invite.add_argument("--name", required=True, help="first name of the person invited")
    invite.add_argument("--json", action="store_true", help="print one JSON object")
    invite.set_defaults(handler=_invite)
    phone = admin.add_parser(
        "set-phone", help="set the number people are told to call when it cannot wait"
    )
    phone.add_argument("--organisation", required=True)
    phone.add_argument("--phone", required=True, help='e.g. "+31 88 123 45 67"')
    phone.set_defaults(handler=_set_phone)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    token = settings.require_token()
    webhook = settings.require_webhook() if args.webhook else None
    db = Database(settings.database_url, data_key=settings.key())
    if db.is_sqlite:
        asyncio.run(_upgrade(settings))
    application = build_application(
        token=token,
        db=db,
        base_url=settings.telegram_api_base_url,
        clock=SystemClock(),
        updater=webhook is None,
        **settings.application_options(),
    )
    if webhook is not None:
        from bot.webhook import serve  # the web server only when asked

        asyncio.run(serve(application, webhook))  # stops cleanly on SIGINT and SIGTERM
        return 0
    # run_polling stops cleanly on SIGINT and SIGTERM.
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def _route(args: argparse.Namespace, settings: Settings) -> int:
    from bot.route_overview import render_overview  # only this command needs it

    renderer = Renderer()
    print(render_overview(renderer, args.lang, settings.checkin_rules(), settings.meeting_rules()))
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo  # the demo pulls in the sandbox server only when asked

    return asyncio.run(run_demo(output=args.output, data_key=settings.key()))


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_upgrade(settings))
    print("database is up to date")
    return 0


async def _upgrade(settings: Settings) -> None:
    db = Database(settings.database_url, data_key=settings.key())
    try:
        await db.upgrade()
    finally:
        await db.dispose()


def _rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> tuple[str, bool]:
        db = Database(settings.database_url, data_key=settings.key())
        try:
            await db.upgrade()
            return await db.rotate_key(args.new_key), db.key_file is not None
        finally:
            await db.dispose()

    key, in_file = asyncio.run(go())
    if in_file:
        print("all stored text is encrypted with the new key, now in the key file")
    else:
        # Only the key on stdout, so `NEW=$(samenopvoeden db rotate-key)` captures it.
        print(key)
        print(
            f"samenopvoeden: all stored text is now encrypted with this new key; set {KEY_ENV} "
            "to it before the next start (the old key no longer opens it).",
            file=sys.stderr,
        )
    return 0


def _add_organisation(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> str:
        db = Database(settings.database_url, data_key=settings.key())
        try:
            await db.upgrade()
            async with db.session() as session:
                organisation = await add_organisation(session, args.name, SystemClock().now())
                return organisation.name
        finally:
            await db.dispose()

    print(f"organisation added: {asyncio.run(go())}")
    return 0


def _set_phone(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> tuple[str, str | None]:
        db = Database(settings.database_url, data_key=settings.key())
        try:
            await db.upgrade()
            async with db.session() as session:
                organisation = await set_organisation_phone(session, args.organisation, args.phone)
                return organisation.name, organisation.phone
        finally:
            await db.dispose()

    name, phone = asyncio.run(go())
    print(f"phone of {name}: {phone}")
    return 0


def _invite(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> tuple[str, str]:
        db = Database(settings.database_url, data_key=settings.key())
        try:
            await db.upgrade()
            async with db.session() as session:
                new = await create_staff_invite(
                    session,
                    organisation_name=args.organisation,
                    role=Role(args.role),
                    name=args.name,
                    now=SystemClock().now(),
                    settings=settings.route(),
                )
                return new.code, new.link(settings.telegram_bot_username)
        finally:
            await db.dispose()

    code, link = asyncio.run(go())
    if args.json:
        print(
            json.dumps(
                {
                    "code": code,
                    "link": link,
                    "role": args.role,
                    "name": args.name,
                    "organisation": args.organisation,
                    "valid_days": settings.invite_valid_days,
                }
            )
        )
    else:
        print(f"Invite for {args.name} ({args.role}), valid {settings.invite_valid_days} days")
        print(f"code: {code}")
        print(f"link: {link}")
    return 0
