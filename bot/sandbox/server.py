"""The Sandbox: a local HTTP server that answers python-telegram-bot like Telegram does."""

# Our timeouts end in descriptive AssertionErrors, which asyncio.timeout cannot give.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from bot.sandbox.api import BotApi, Params, QueuedUpdate, Upload
from bot.sandbox.limits import FloodLimits
from bot.sandbox.models import ApiCall, ApiError, Chat, ChatMessage, JsonDict, Stats
from bot.sandbox.people import Person
from bot.sandbox.timeline import timeline

log = logging.getLogger(__name__)

FAULTS = frozenset({"500", "429", "read_timeout", "drop", "forbidden"})
_MAX_UPLOAD = 60 * 1024 * 1024
_MAX_POLL_TIMEOUT = 50.0
# A superseded long poll waits this long before answering 409, so a client that simply
# cancelled its request (PTB does on shutdown) is gone before we call it a conflict.
_CONFLICT_GRACE = 0.2


@dataclass(eq=False)
class Fault:
    """An injected failure for one Bot API method."""

    method: str  # lower case
    kind: str
    times: int | None
    rate: float | None
    rng: random.Random
    delay: float
    retry_after: int

    def fires(self) -> bool:
        """Decides (and counts) whether this call gets the fault."""
        if self.times is not None and self.times <= 0:
            return False
        if self.rate is not None and self.rng.random() >= self.rate:
            return False
        if self.times is not None:
            self.times -= 1
        return True


class _Signal:
    """Wakes every waiter on any state change; futures are made per wait, so no loop binding."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, max(timeout, 0.0))
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)


def message_json(msg: ChatMessage) -> JsonDict:
    """A chat message for the HTTP control API."""

    def file_json(kind: str) -> JsonDict | None:
        info = getattr(msg, kind)
        if info is None:
            return None
        return {
            "file_id": info.file_id,
            "filename": info.filename,
            "mime_type": info.mime_type,
            "size": info.size,
            "caption": msg.caption,
            "data_base64": base64.b64encode(info.data).decode(),
        }

    return {
        "message_id": msg.message_id,
        "from_bot": msg.from_bot,
        "text": msg.text,
        "html": msg.html,
        "buttons": msg.buttons,
        "document": file_json("document"),
        "photo": file_json("photo"),
        "edited": msg.edited,
        "deleted": msg.deleted,
    }


class Sandbox:
    """A strict local fake of the Telegram Bot API plus the people who chat with the bot.

    Point PTB at it with ``Bot(token, base_url=sandbox.base_url,
    base_file_url=sandbox.base_file_url)``. State lives on this object; the aiohttp
    server and everything loop-bound are made in ``start()``.

    flood_limits: False (off), True (FloodLimits defaults) or a FloodLimits.
    quiet_period: seconds without Bot API calls (getUpdates aside) that count as settled.
    settle_timeout: default limit for a person's action to settle.
    read_timeout_delay: default answer delay of the "read_timeout" fault.
    webhook_retry_delay: first backoff after a failed webhook delivery (doubles up to 2 s).
    latency: seconds every Bot API call (getUpdates aside) waits before it is answered, as a
        network round trip to Telegram would (benchmarks set 0.05; the call is done first).
    clock: seconds since the epoch for message dates (the demo passes its fake clock, so its
        timeline shows the story's days and hours).
    """

    def __init__(
        self,
        token: str = "123456:SANDBOX-TOKEN",  # noqa: S107 - a fake token for a local fake
        *,
        bot_username: str = "samenopvoeden_bot",
        bot_first_name: str = "Samen Opvoeden",
        flood_limits: bool | FloodLimits = False,
        quiet_period: float = 0.15,
        settle_timeout: float = 10.0,
        read_timeout_delay: float = 6.0,
        webhook_retry_delay: float = 0.1,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.quiet_period = quiet_period
        self.settle_timeout = settle_timeout
        self.read_timeout_delay = read_timeout_delay
        self.webhook_retry_delay = webhook_retry_delay
        self.latency = latency
        self.host = host
        self.stats = Stats()
        limits = FloodLimits() if flood_limits is True else flood_limits or None
        self.api = BotApi(token, bot_username, bot_first_name, limits, self.stats, clock)
        self.calls: list[ApiCall] = []
        self._port = port
        self._people: dict[int, Person] = {}
        self._faults: list[Fault] = []
        self._signal = _Signal()
        self._webhook_targets: list[str] | None = None
        self._round_robin = 0
        self._watched: list[QueuedUpdate] = []
        self._delivering: QueuedUpdate | None = None
        self._inflight = 0
        # Optional: the bot's own "still working" flag, so settling does not depend on timing
        # alone (tests set it from the Application's in-flight updates).
        self.busy: Callable[[], bool] | None = None
        self._last_activity = 0.0
        self._poll_generation = 0
        self._stopping = False
        self._stop_event: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Starts the HTTP server (port 0 picks a free port) and webhook delivery."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        self._stopping = False
        self._stop_event = asyncio.Event()
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/_sandbox/{action}", self._handle_control)
        # handler_cancellation: a client that gives up (PTB cancelling a long poll) ends our
        # handler too, instead of it lingering until its timeout.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._deliver_webhooks())

    async def stop(self) -> None:
        """Releases long polls and delayed answers, stops webhook delivery, closes the server."""
        self._stopping = True
        if self._stop_event is not None:
            self._stop_event.set()
        self._signal.fire()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL of the running server, e.g. http://127.0.0.1:PORT."""
        if self._runner is None:
            raise RuntimeError("sandbox not started")
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """PTB's base_url: PTB appends ``{token}/{method}``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's base_file_url, for downloading files the people sent."""
        return f"{self.url}/file/bot"

    # --- control: people, faults, webhooks -------------------------------------------------

    def person(
        self,
        user_id: int,
        first_name: str,
        language_code: str = "nl",
        username: str | None = None,
        *,
        started: bool = False,
    ) -> Person:
        """Creates (or returns the existing) person; their private chat id is their user id."""
        if user_id in self._people:
            return self._people[user_id]
        chat = self.api.chats.setdefault(
            user_id, Chat(user_id, first_name, language_code, username, started)
        )
        person = self._people[user_id] = Person(self, chat)
        return person

    @property
    def people(self) -> list[Person]:
        """Everyone created so far, in creation order."""
        return list(self._people.values())

    def inject(
        self,
        method: str,
        fault: str,
        times: int | None = None,
        rate: float | None = None,
        seed: int | None = 0,
        *,
        delay: float | None = None,
        retry_after: int = 1,
    ) -> None:
        """Makes calls of `method` fail with `fault`.

        Faults: "500", "429" (with retry_after), "forbidden" (403), "drop" (connection
        closed, nothing processed) and "read_timeout" (processed, so the person sees the
        message, but answered only after `delay` seconds, default read_timeout_delay).
        `times`: the next N calls; `rate`: that fraction of calls, drawn from Random(seed);
        neither: every call until clear_faults().
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {sorted(FAULTS)}")
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self._faults.append(
            Fault(
                method=method.lower(),
                kind=fault,
                times=times,
                rate=rate,
                rng=random.Random(seed),  # noqa: S311 - reproducible test faults, not crypto
                delay=self.read_timeout_delay if delay is None else delay,
                retry_after=retry_after,
            )
        )

    def clear_faults(self) -> None:
        """Removes all injected faults."""
        self._faults.clear()

    def set_webhook_targets(self, urls: list[str] | None) -> None:
        """Delivers webhook updates to these URLs in turn (round robin), or None to reset.

        The URL the bot registers with setWebhook stands for a load balancer: a webhook must
        still be set for delivery, but the POSTs go to these targets, e.g. two bot instances.
        """
        self._webhook_targets = list(urls) if urls else None
        self._signal.fire()

    # --- control: observing ---------------------------------------------------------------

    @property
    def errors(self) -> list[ApiCall]:
        """Every call answered with an error, injected faults included."""
        return [call for call in self.calls if not call.ok]

    @property
    def bot_errors(self) -> list[ApiCall]:
        """Errors the bot caused itself (injected faults left out)."""
        return [call for call in self.errors if call.fault is None]

    def calls_to(self, method: str) -> list[ApiCall]:
        """Calls of one method (case-insensitive)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def unanswered_callback_queries(self) -> list[str]:
        """Callback query ids the bot never answered."""
        return self.api.unanswered_callback_queries

    def transcript(
        self, user_ids: Iterable[int] | None = None, labels: dict[int, str] | None = None
    ) -> str:
        """Readable conversations as each person saw them; `labels` names the sections."""
        ids = list(user_ids) if user_ids is not None else list(self._people)
        labels = labels or {}
        parts = [self._people[uid].transcript(labels.get(uid)) for uid in ids]
        return "\n\n".join(parts)

    def timeline(
        self,
        user_ids: Iterable[int] | None = None,
        labels: dict[int, str] | None = None,
        zone: dt.tzinfo = dt.UTC,
    ) -> str:
        """All these chats as one story in time order, each message as it was then.

        Day markers and times are in `zone`; `labels` names who received each bot message.
        """
        ids = list(user_ids) if user_ids is not None else list(self._people)
        return timeline([self.api.chats[uid] for uid in ids], labels or {}, zone)

    # --- waiting ----------------------------------------------------------------------------

    def notify(self) -> None:
        """Wakes long polls, webhook delivery and waiters after a state change."""
        self._signal.fire()

    async def wait_for(self, condition: Callable[[], bool], deadline: float) -> bool:
        """Waits until condition() holds or the loop time passes deadline."""
        loop = asyncio.get_running_loop()
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping:
                return False
            await self._signal.wait(remaining)
        return True

    async def _wait_quiet(self, deadline: float) -> bool:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            wake = deadline - now
            busy = self.busy is not None and self.busy()
            if self._inflight == 0 and not busy:
                quiet_for = now - self._last_activity
                if quiet_for >= self.quiet_period:
                    return True
                wake = min(wake, self.quiet_period - quiet_for)
            elif busy:
                wake = min(wake, 0.01)  # the bot does not signal us when it is done: poll
            if now >= deadline or self._stopping:
                return False
            await self._signal.wait(wake)

    def _describe_calls(self, since: int) -> str:
        lines = [
            f"  {c.method}({_short_params(c.params)}) -> "
            + ("ok" if c.ok else f"{c.error_code} {c.description}")
            for c in self.calls[since:]
            if c.method != "getUpdates"
        ]
        return "\n".join(lines) if lines else "  (none)"

    async def deliver_and_settle(
        self,
        update: QueuedUpdate,
        who: str,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        calls_before: int | None = None,
    ) -> None:
        """Waits until the bot fetched the update, (optionally) reacted, and went quiet."""
        loop = asyncio.get_running_loop()
        limit = self.settle_timeout if timeout is None else timeout
        deadline = loop.time() + limit
        since = len(self.calls) if calls_before is None else calls_before
        self._watched.append(update)
        self._signal.fire()
        try:
            what = f"{who} {update.summary}"
            if not await self.wait_for(lambda: update.fetched or update.filtered, deadline):
                raise AssertionError(
                    f"{what}, but the bot did not fetch the update within {limit}s "
                    f"(is it polling, or is a webhook set?). Bot API calls since:\n"
                    + self._describe_calls(since)
                )
            if update.filtered:
                raise AssertionError(f"{what}, but allowed_updates excludes {update.kind!r}")
            if expect_reply and not await self.wait_for(lambda: update.responded, deadline):
                raise AssertionError(
                    f"{what}; the bot fetched it but made no API call for this chat within "
                    f"{limit}s. Bot API calls since:\n" + self._describe_calls(since)
                )
            if not await self._wait_quiet(deadline):
                raise AssertionError(
                    f"{what}; the bot did not go quiet within {limit}s. Bot API calls since:\n"
                    + self._describe_calls(since)
                )
        finally:
            self._watched.remove(update)

    async def settle(self, timeout: float | None = None) -> None:
        """Waits until every queued update was fetched and the bot has gone quiet."""
        loop = asyncio.get_running_loop()
        limit = self.settle_timeout if timeout is None else timeout
        deadline = loop.time() + limit
        fetched = await self.wait_for(
            lambda: all(u.fetched for u in self.api.pending_updates()), deadline
        )
        if not fetched or not await self._wait_quiet(deadline):
            raise AssertionError(
                f"the bot did not settle within {limit}s; "
                f"{sum(not u.fetched for u in self.api.updates)} update(s) not fetched"
            )

    def _mark_responses(self, chat_ids: set[int], watched: list[QueuedUpdate]) -> None:
        for update in watched:
            if update.chat_id in chat_ids:
                update.responded = True

    # --- HTTP: Bot API ----------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON body") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON body must be an object")
                values.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        with value.file:
                            data = value.file.read()
                        uploads[key] = Upload(value.filename, data, value.content_type)
                    else:
                        values[key] = value
        return Params(values, uploads)

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method.lower() and fault.fires():
                self.stats.faults[fault.kind] += 1
                return fault
        return None

    def _record(
        self,
        method: str,
        params: Params | None,
        *,
        result: Any = None,
        error: ApiError | None = None,
        fault: str | None = None,
        description: str | None = None,
    ) -> None:
        call = ApiCall(
            method=method,
            params=params.loggable() if params else {},
            ok=error is None and description is None,
            time=time.time(),
            error_code=error.code if error else None,
            description=error.description if error else description,
            fault=fault,
            result=result,
        )
        self.calls.append(call)
        if not call.ok:
            self.stats.errors += 1

    def _related_chats(self, params: Params) -> set[int]:
        chats: set[int] = set()
        raw = params.get_str("chat_id")
        if raw is not None and raw.lstrip("-").isdigit():
            chats.add(int(raw))
        query_chat = self.api.callback_chat(params.get_str("callback_query_id") or "")
        if query_chat is not None:
            chats.add(query_chat)
        return chats

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            unauthorized = ApiError(401, "Unauthorized")
            self._record(name, None, error=unauthorized)
            return web.json_response(unauthorized.to_json(), status=401)
        entry = self.api.methods.get(name.lower())
        is_poll = name.lower() == "getupdates"
        method = "getUpdates" if is_poll else entry[0] if entry else name
        self.stats.calls[method] += 1
        loop = asyncio.get_running_loop()
        if not is_poll:
            self._inflight += 1
            self._last_activity = loop.time()
        # Only updates the bot already had can be answered by this call.
        seen = [u for u in self._watched if u.fetched or u is self._delivering]
        params: Params | None = None
        try:
            params = await self._read_params(request)
            fault = self._take_fault(method)
            if fault is not None and fault.kind != "read_timeout":
                return self._answer_fault(request, method, params, fault)
            try:
                if is_poll:
                    result: Any = await self._get_updates(params)
                elif entry is None:
                    raise ApiError(404, "Not Found")
                else:
                    result = entry[1](params)
            except ApiError as exc:
                self._record(method, params, error=exc)
                response = web.json_response(exc.to_json(), status=exc.code)
            else:
                self._record(method, params, result=result)
                response = web.json_response({"ok": True, "result": result})
            # A chat action ("typing…") announces work; it is not yet the bot's answer.
            if not is_poll and method != "sendChatAction":
                self._mark_responses(self._related_chats(params), seen)
            if fault is not None:
                # read_timeout: done and visible, but the answer comes too late.
                self._signal.fire()
                await self._sleep(fault.delay)
            elif self.latency and not is_poll:
                await self._sleep(self.latency)
            return response
        except ApiError as exc:  # unreadable body
            self._record(method, params, error=exc)
            return web.json_response(exc.to_json(), status=exc.code)
        finally:
            if not is_poll:
                self._inflight -= 1
                self._last_activity = loop.time()
            self._signal.fire()

    def _answer_fault(
        self, request: web.Request, method: str, params: Params, fault: Fault
    ) -> web.StreamResponse:
        if fault.kind == "drop":
            self._record(method, params, fault="drop", description="connection dropped")
            if request.transport is not None:
                request.transport.close()
            # Nothing is written to a closed transport; aiohttp just discards this.
            return web.Response(status=500)
        if fault.kind == "500":
            error = ApiError(500, "Internal Server Error")
        elif fault.kind == "429":
            error = ApiError(
                429, f"Too Many Requests: retry after {fault.retry_after}", fault.retry_after
            )
        else:
            error = ApiError(403, "Forbidden: bot was blocked by the user")
        self._record(method, params, error=error, fault=fault.kind)
        return web.json_response(error.to_json(), status=error.code)

    async def _sleep(self, seconds: float) -> None:
        """Sleeps, but wakes at once when the sandbox stops."""
        if self._stop_event is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        """Long polling: waits up to `timeout` seconds for updates, like Telegram."""
        loop = asyncio.get_running_loop()
        try:
            timeout = min(max(float(params.get_str("timeout") or 0), 0.0), _MAX_POLL_TIMEOUT)
        except ValueError:
            raise ApiError(400, "Bad Request: invalid timeout specified") from None
        deadline = loop.time() + timeout
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal.fire()  # tell an older poll it has been superseded
        while True:
            batch = self.api.take_updates(params)
            if batch or self._stopping or loop.time() >= deadline:
                return [update.payload for update in batch]
            if generation != self._poll_generation:
                await self._sleep(_CONFLICT_GRACE)
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            await self._signal.wait(deadline - loop.time())

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        unique = request.match_info["path"].rsplit("/", 1)[-1]
        for info in self.api.files.values():
            if info.file_unique_id == unique:
                return web.Response(body=info.data, content_type="application/octet-stream")
        return web.json_response(ApiError(404, "Not Found").to_json(), status=404)

    # --- webhook delivery -------------------------------------------------------------------

    async def _deliver_webhooks(self) -> None:
        """Posts queued updates to the webhook in order; only HTTP 200 counts as delivered."""
        backoff = self.webhook_retry_delay
        while not self._stopping:
            hook = self.api.webhook
            pending = self.api.pending_updates() if hook else []
            if hook is None or not pending:
                await self._signal.wait(1.0)
                continue
            update = pending[0]
            targets = self._webhook_targets or [hook.url]
            target = targets[self._round_robin % len(targets)]
            self._round_robin += 1
            headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token or ""}
            if not hook.secret_token:
                headers.clear()
            self._delivering = update
            error = await self._post_update(target, update.payload, headers)
            self._delivering = None
            if error is None:
                self.api.mark_fetched(update)
                if update in self.api.updates:
                    self.api.updates.remove(update)
                backoff = self.webhook_retry_delay
                self._signal.fire()
                continue
            self.stats.webhook_failures += 1
            hook.last_error_date, hook.last_error_message = int(time.time()), error
            log.debug("webhook delivery to %s failed: %s", target, error)
            await self._sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _post_update(
        self, target: str, payload: JsonDict, headers: dict[str, str]
    ) -> str | None:
        """Posts one update; returns None on HTTP 200, else Telegram-style error text."""
        assert self._session is not None
        try:
            async with self._session.post(
                target, json=payload, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                await response.read()
                if response.status == 200:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"Connection failed: {exc.__class__.__name__}"

    # --- HTTP: control ----------------------------------------------------------------------

    async def _handle_control(self, request: web.Request) -> web.StreamResponse:
        """/_sandbox/<action>: the in-process control API over HTTP (JSON in, JSON out)."""
        action = request.match_info["action"]
        args: dict[str, Any] = dict(request.query)
        if request.body_exists:
            try:
                body = await request.json()
            except ValueError:
                return web.json_response({"ok": False, "description": "bad JSON"}, status=400)
            args.update(body if isinstance(body, dict) else {})
        try:
            result = await self._control(action, args)
        except AssertionError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=409)
        except (KeyError, TypeError, ValueError) as exc:
            description = f"bad arguments for {action}: {exc!r}"
            return web.json_response({"ok": False, "description": description}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _control(self, action: str, args: dict[str, Any]) -> Any:
        def person() -> Person:
            return self._people[int(args["user_id"])]

        def msgs(found: list[ChatMessage]) -> list[JsonDict]:
            return [message_json(m) for m in found]

        timeout = float(args["timeout"]) if "timeout" in args else None
        if action == "person":
            created = self.person(
                int(args["user_id"]),
                str(args["first_name"]),
                str(args.get("language_code", "nl")),
                args.get("username"),
                started=bool(args.get("started", False)),
            )
            return {"user_id": created.user_id, "first_name": created.first_name}
        if action == "send":
            expect = bool(args.get("expect_reply", True))
            sent = await person().send(str(args["text"]), expect_reply=expect, timeout=timeout)
            return msgs(sent)
        if action == "click":
            target = None
            if "message_id" in args:
                target = person().message(int(args["message_id"]))
            return msgs(await person().click(str(args["label"]), target, timeout=timeout))
        if action == "click_data":
            clicked = await person().click_data(
                str(args["data"]), int(args["message_id"]), timeout=timeout
            )
            return msgs(clicked)
        if action in {"block", "unblock"}:
            (person().block if action == "block" else person().unblock)()
            return True
        if action == "chat":
            return msgs(person().chat)
        if action == "commands":
            return person().commands
        if action == "alerts":
            return person().alerts
        if action == "inject":
            self.inject(
                str(args["method"]),
                str(args["fault"]),
                times=args.get("times"),
                rate=args.get("rate"),
                seed=args.get("seed", 0),
                delay=args.get("delay"),
                retry_after=int(args.get("retry_after", 1)),
            )
            return True
        if action == "clear_faults":
            self.clear_faults()
            return True
        if action == "webhook_targets":
            self.set_webhook_targets(args.get("urls"))
            return True
        if action == "settle":
            await self.settle(timeout)
            return True
        if action in {"calls", "errors"}:
            calls = self.calls if action == "calls" else self.errors
            return [dataclasses.asdict(call) for call in calls]
        if action == "stats":
            return self.stats.to_json()
        if action == "transcript":
            return self.transcript()
        raise KeyError(f"unknown control action {action!r}")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _short_params(params: JsonDict) -> str:
    shown = []
    for key in ("chat_id", "text", "caption", "message_id", "callback_query_id"):
        if key in params:
            value = str(params[key])
            if len(value) > 40:
                value = value[:40] + "…"
            shown.append(f"{key}={value!r}")
    return ", ".join(shown)
