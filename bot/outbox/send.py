"""Send one claimed row to Telegram and turn what Telegram answered into the row's next state."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.clock import Clock
from bot.delivery import keyboard
from bot.digest import photo_of
from bot.outbox.limiter import RateLimiter
from bot.outbox.recipients import Recipient, held_back
from bot.outbox.rows import Claimed, Result
from bot.render import Renderer
from bot.transport import never_sent
from flows.outbox import decode_say
from flows.settings import QuietHours
from storage.models import OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


async def send(
    row: Claimed,
    recipient: Recipient | None,
    *,
    bot: Bot,
    renderer: Renderer,
    clock: Clock,
    limiter: RateLimiter,
    quiet: QuietHours,
) -> Result:
    """Send one row (or hold it back) and say what became of it; never raises."""
    now = clock.now()
    kept = held_back(row, recipient, now, quiet)
    if kept is not None:
        return kept
    assert recipient is not None  # held_back keeps rows without one
    try:
        say = decode_say(row.payload)
        text = renderer.render(recipient.language, say.template, say.context)
        markup = keyboard(renderer, recipient.language, say.buttons)
    except Exception as error:  # a template bug must not block the rest of the outbox
        log.exception("could not render outbox row %s", row.id)
        return Result(row, OutboxStatus.FAILED, error=f"render: {error}"[:300])
    await limiter.acquire(recipient.chat_id)
    now = clock.now()  # the limiter may have held this send a while
    try:
        photo = photo_of(say.context)
        message: Message = (
            await bot.send_photo(recipient.chat_id, photo, caption=text)
            if photo is not None
            else await bot.send_message(recipient.chat_id, text, reply_markup=markup)
        )
    except RetryAfter as error:
        seconds = _seconds(error.retry_after)
        limiter.pause(seconds)
        return _retry(row, now + dt.timedelta(seconds=seconds), str(error))
    except Forbidden as error:
        return Result(
            row,
            OutboxStatus.FAILED,
            error=str(error)[:300],
            unreachable_chat=recipient.chat_id,
        )
    except BadRequest as error:
        log.error("Telegram refused outbox row %s (%s): %s", row.id, say.template, error)
        return Result(row, OutboxStatus.FAILED, error=str(error)[:300])
    except TimedOut as error:
        if never_sent(error):
            return _retry(row, now + _backoff(row.attempts), "connect/pool timeout")
        return Result(row, OutboxStatus.UNKNOWN, error="read/write timeout: may have arrived")
    except NetworkError as error:
        if never_sent(error):
            return _retry(row, now + _backoff(row.attempts), str(error)[:300])
        return Result(row, OutboxStatus.UNKNOWN, error=f"connection lost: {error}"[:300])
    except TelegramError as error:  # refused for another reason (e.g. the chat migrated)
        log.error("Telegram refused outbox row %s (%s): %s", row.id, say.template, error)
        return Result(row, OutboxStatus.FAILED, error=str(error)[:300])
    except Exception as error:  # a surprise must not end the run with rows still claimed
        log.exception("sending outbox row %s failed", row.id)
        return Result(row, OutboxStatus.UNKNOWN, error=f"unexpected: {error!r}"[:300])
    return Result(row, OutboxStatus.SENT, message_id=message.message_id)


def _retry(row: Claimed, at: dt.datetime, error: str) -> Result:
    if row.attempts >= MAX_ATTEMPTS:
        return Result(row, OutboxStatus.FAILED, error=f"gave up: {error}"[:300])
    return Result(row, OutboxStatus.PENDING, error=error[:300], retry_at=at)


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** max(attempts - 1, 0), 60))
