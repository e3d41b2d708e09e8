"""How the bot talks HTTP to Telegram: python-telegram-bot's request interface on aiohttp.

python-telegram-bot's default transport is httpx. Its connection pool looks at every pooled
connection, several times, on every request (httpcore's `_assign_requests_to_connections`,
encode/httpx#3215, encode/httpcore#1035). With 16 people's updates handled at once plus 8
outbox sends, that bookkeeping was the largest single cost of a button press. aiohttp (already a
dependency, for the sandbox) does the same calls for well under half the CPU
(benchmarks/conversation.py). python-telegram-bot supports other transports through
`BaseRequest`; its maintainers keep an aiohttp one in ptbcontrib, which is not on PyPI.

Timeouts keep python-telegram-bot's meaning:
- connect: making the TCP connection (aiohttp `sock_connect`);
- pool: waiting for a free connection, plus connecting (aiohttp `connect` covers both);
- read: waiting for the answer (aiohttp `sock_read`);
- write: aiohttp has none per socket write, so it bounds the whole request only for uploads.

Errors keep the line the outbox needs (`never_sent`): failing to connect or to get a connection
means Telegram never saw the request; a read timeout or a dropped connection means it may have.
"""

from __future__ import annotations

import re

import aiohttp
import httpx
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# A bot token's shape (123456:ABC-def...): never in an error message or a log line.
TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
CONNECTIONS = 64  # per process: 16 updates at once, 8 outbox sends, and room to spare


class AiohttpRequest(BaseRequest):
    """A python-telegram-bot request backend on one aiohttp ClientSession."""

    __slots__ = (
        "_connect_timeout",
        "_connections",
        "_media_write_timeout",
        "_pool_timeout",
        "_read_timeout",
        "_session",
    )

    def __init__(
        self,
        connection_pool_size: int = CONNECTIONS,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._connections = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Made here, inside the running loop that will use it (aiohttp binds to it).
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=None),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if uploads else None)
        timeout = aiohttp.ClientTimeout(
            total=None if write is None or not uploads else write + (read or 0.0),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut(
                "Pool or connect timeout: the request was not sent to Telegram."
            ) from error
        except TimeoutError as error:  # sock_read, or the total of an upload: it may have arrived
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # aiohttp may name the URL, and the URL holds the token: name the method only.
            reason = TOKEN_SHAPE.sub("<token>", str(error).replace(url, _method(url)))
            raise NetworkError(f"aiohttp.{type(error).__name__}: {reason}") from error


def _method(url: str) -> str:
    """The Bot API method of a request URL (`.../bot<TOKEN>/sendMessage` → `sendMessage`)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields as python-telegram-bot encodes them; multipart only when a file goes along."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def never_sent(error: NetworkError) -> bool:
    """True when the request certainly did not reach Telegram (safe to send again).

    An HTTP 5xx answer (no transport error beneath) and connect or pool failures were not
    processed; a read timeout or a dropped connection may have been (PTB issue #1045). httpx's
    errors are known too, for a bot built with python-telegram-bot's default transport.
    """
    cause = error.__cause__
    if cause is None:
        return not isinstance(error, TimedOut)
    return isinstance(
        cause,
        aiohttp.ClientConnectorError
        | aiohttp.ConnectionTimeoutError
        | httpx.ConnectError
        | httpx.ConnectTimeout
        | httpx.PoolTimeout,
    )
