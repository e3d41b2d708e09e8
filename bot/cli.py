"""The `samenopvoeden` command: run the bot, migrate, administer, or play the demo."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError

from bot.app import build_application
from bot.check import TelegramUnavailable, run_check, telegram_problem, telegram_ready
from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.render import LANGUAGES, Renderer
from flows.access_log_export import HELP as ACCESS_LOG_HELP
from flows.contact import set_organisation_phone
from flows.invites import STAFF_INVITE_ROLES, FlowError, add_organisation, create_staff_invite
from storage.crypto import KEY_ENV, DataKeyError
from storage.db import Database, DatabaseUnavailable, async_url
from storage.models import Role

# What a person's configuration or input can get wrong: one line on stderr, exit code 2.
# Anything else is a bug and keeps its traceback.
EXPLAINED = (ConfigError, FlowError, DataKeyError, DatabaseUnavailable, TelegramUnavailable)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.handler is _check:  # it reports wrong settings itself, as one of its checks
        return run_check(health=args.health)
    try:
        settings = load_settings()
        result: int = args.handler(args, settings)
        return result
    except EXPLAINED as error:
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

    check = commands.add_parser(
        "check",
        help="check the configuration, the database and (with a token) Telegram, one line each",
    )
    check.add_argument(
        "--health",
        action="store_true",
        help="only the settings and that the database answers (fast, no Telegram call)",
    )
    check.set_defaults(handler=_check)

    table = commands.add_parser(
        "route", help="print the route: phases, questions, tips and meetings (for review)"
    )
    table.add_argument("--lang", choices=LANGUAGES, default="nl", help="language (default nl)")
    table.set_defaults(handler=_route)

    demo = commands.add_parser("demo", help="play a short story in the built-in sandbox")
    demo.add_argument("--output", default=None, help="folder for files the demo writes")
    demo.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="play it in this database (migrated first) and leave the data there, e.g. "
        "sqlite:///demo.db; default: a temporary database",
    )
    demo.set_defaults(handler=_demo)

    export = commands.add_parser("export", help="exports for research and privacy").add_subparsers(
        required=True, metavar="WHAT"
    )
    pilot = export.add_parser(
        "pilot",
        help="a pseudonymised zip of CSV files for the pilot's researchers (only people who "
        "said yes to research; README.txt and codebook.csv inside)",
    )
    pilot.add_argument("--organisation", required=True)
    pilot.add_argument("--out", required=True, metavar="FILE.zip")
    pilot.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="the database to read, e.g. sqlite:///demo.db; default: DATABASE_URL",
    )
    pilot.set_defaults(handler=_export_pilot)
    access_log = export.add_parser(
        "access-log",
        help="who saw which of the organisation's placements, as CSV, for the privacy officer",
        description="Write the organisation's access log as CSV. " + ACCESS_LOG_HELP + ".",
    )
    access_log.add_argument("--organisation", required=True)
    access_log.add_argument(
        "--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day (UTC)"
    )
    access_log.add_argument(
        "--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day, included (UTC)"
    )
    access_log.add_argument("--out", required=True, metavar="FILE.csv")
    access_log.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="the database to read, e.g. sqlite:///demo.db; default: DATABASE_URL",
    )
    access_log.set_defaults(handler=_export_access_log)

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
    invite = admin.add_parser(
        "invite", help="invite a begeleider, behandelaar or (the first) coordinator"
    )
    invite.add_argument("--organisation", required=True)
    invite.add_argument(
        "--role", required=True, choices=[str(role) for role in STAFF_INVITE_ROLES]
    )
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
    # The database first: Telegram is contacted only when it is ready.
    asyncio.run(_prepare(settings))
    asyncio.run(telegram_ready(settings))
    db = Database(settings.database_url, data_key=settings.key())
    application = build_application(
        token=token,
        db=db,
        base_url=settings.telegram_api_base_url,
        clock=SystemClock(),
        updater=webhook is None,
        **settings.application_options(),
    )
    try:
        if webhook is not None:
            from bot.webhook import serve  # the web server only when asked

            asyncio.run(serve(application, webhook))  # stops cleanly on SIGINT and SIGTERM
            return 0
        # run_polling stops cleanly on SIGINT and SIGTERM.
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    except BadRequest as error:
        if webhook is None or "webhook" not in error.message.lower():
            raise  # our bug, not the configuration
        raise TelegramUnavailable(
            f"Telegram refused the webhook {webhook.url}: {error.message} "
            "(SAMENOPVOEDEN_WEBHOOK_URL)"
        ) from None
    except (InvalidToken, NetworkError) as error:
        # At start (getMe): a wrong or revoked token, or no way to Telegram.
        problem = telegram_problem(error, settings.telegram_api_base_url)
        assert problem is not None
        raise TelegramUnavailable(problem) from None
    except OSError as error:
        if webhook is None or error.errno not in _CANNOT_LISTEN:
            raise
        raise ConfigError(
            f"cannot listen on {webhook.listen}:{webhook.port}: {_CANNOT_LISTEN[error.errno]} "
            "(SAMENOPVOEDEN_WEBHOOK_LISTEN, SAMENOPVOEDEN_WEBHOOK_PORT)"
        ) from None
    return 0


# Why the webhook server could not listen, by errno.
_CANNOT_LISTEN = {
    errno.EADDRINUSE: "another program listens on that port",
    errno.EACCES: "no permission (a port below 1024 needs privileges)",
    errno.EADDRNOTAVAIL: "this machine has no such address",
}


async def _prepare(settings: Settings) -> None:
    """Before `run`: the database answers; SQLite is migrated here, PostgreSQL must be."""
    db = await _database(settings)
    try:
        if db.is_sqlite:
            await db.upgrade()
            return
        current, known = await db.revisions()
        if current != known[-1] and (current is None or current in known):
            at = f"is at migration {current}" if current else "has no migrations applied"
            raise DatabaseUnavailable(
                f"the database {at}, this version needs {known[-1]}: run "
                "`samenopvoeden db upgrade` first"
            )
    finally:
        await db.dispose()


async def _database(settings: Settings) -> Database:
    """The configured database, once it answers (DatabaseUnavailable says why not)."""
    db = Database(settings.database_url, data_key=settings.key())
    try:
        await db.ping()
    except BaseException:
        await db.dispose()
        raise
    return db


def _check(args: argparse.Namespace, settings: Settings | None) -> int:
    return run_check(health=args.health)


def _route(args: argparse.Namespace, settings: Settings) -> int:
    from bot.route_overview import render_overview  # only this command needs it

    renderer = Renderer()
    print(render_overview(renderer, args.lang, settings.checkin_rules(), settings.meeting_rules()))
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo  # the demo pulls in the sandbox server only when asked

    url = _database_option(args.database) if args.database else None
    return asyncio.run(run_demo(output=args.output, data_key=settings.key(), database_url=url))


def _database_option(url: str) -> str:
    """A database given as --database URL, checked as DATABASE_URL is."""
    try:
        async_url(url)
    except ValueError as error:
        raise ConfigError(f"--database: {error}") from None
    return url


def _with_database(settings: Settings, url: str | None) -> Settings:
    if url is None:
        return settings
    return settings.model_copy(update={"database_url": _database_option(url)})


def _export_pilot(args: argparse.Namespace, settings: Settings) -> int:
    from flows import pilot_export  # only this command needs it

    path = pilot_export.check_out_path(args.out, ".zip")  # before the database: nothing to undo
    wording = pilot_export.question_wording(
        lambda template, context: Renderer().render("nl", template, context)
    )

    async def go(session: AsyncSession) -> int:
        return await pilot_export.export_to_file(
            session, args.organisation, path, SystemClock().now(), wording
        )

    count = _write_export(_with_database(settings, args.database), path, go)
    print(f"pilot export of {args.organisation}: {count} placement(s) in {path}")
    return 0


def _export_access_log(args: argparse.Namespace, settings: Settings) -> int:
    from flows import access_log_export, pilot_export

    first, last = access_log_export.period(args.start, args.end)
    path = pilot_export.check_out_path(args.out, ".csv")

    async def go(session: AsyncSession) -> int:
        return await access_log_export.export_to_file(
            session, args.organisation, first, last, path, SystemClock().now()
        )

    count = _write_export(_with_database(settings, args.database), path, go)
    print(f"access log of {args.organisation}, {first} to {last}: {count} row(s) in {path}")
    return 0


def _write_export(
    settings: Settings, path: Path, write: Callable[[AsyncSession], Awaitable[int]]
) -> int:
    """Run an export in one transaction; the file it wrote goes again if the commit fails."""
    written: list[int] = []

    async def go() -> int:
        db = await _database(settings)
        try:
            await db.upgrade()
            async with db.session() as session:
                written.append(await write(session))
            return written[0]
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except BaseException:
        if written:
            path.unlink(missing_ok=True)
        raise


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_upgrade(settings))
    print("database is up to date")
    return 0


async def _upgrade(settings: Settings) -> None:
    db = await _database(settings)
    try:
        await db.upgrade()
    finally:
        await db.dispose()


def _rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> tuple[str, bool]:
        db = await _database(settings)
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
        db = await _database(settings)
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
        db = await _database(settings)
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
        db = await _database(settings)
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
