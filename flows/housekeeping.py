"""Housekeeping on the clock: personal data that has done its job goes (README: data inventory).

- An outbox row's payload (rendered text, names, quoted answers, chart images) is blanked once the
  row has been final (sent, failed, unknown, dropped) for `outbox_keep_days`; key, person, kind,
  status, times and Telegram's message id stay as the record of delivery.
- The open question of someone who opened an invite and never answered the consent (a
  `conversation_state` row without a Telegram link) goes after a day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.outbox import blank_delivered
from storage.models import ConversationState, TelegramLink

UNCONSENTED_KEEP = dt.timedelta(days=1)


@dataclass(frozen=True)
class Tidied:
    payloads_blanked: int
    visitors_forgotten: int


async def tidy(session: AsyncSession, now: dt.datetime, outbox_keep_days: int) -> Tidied:
    """Blank old outbox payloads and forget visitors who never agreed; return how many."""
    blanked = await blank_delivered(session, now, outbox_keep_days)
    forgotten = await forget_unconsented(session, now)
    return Tidied(blanked, forgotten)


async def forget_unconsented(session: AsyncSession, now: dt.datetime) -> int:
    """Delete the open question of visitors without an account, untouched for a day."""
    linked = exists(
        select(TelegramLink.id).where(
            TelegramLink.telegram_user_id == ConversationState.telegram_user_id
        )
    )
    result = await session.execute(
        delete(ConversationState)
        .where(ConversationState.updated_at < now - UNCONSENTED_KEEP, ~linked)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
