"""Deliver the outbox: claim due rows, send them within Telegram's limits, record what happened.

Nothing is sent twice: a row is claimed (status `sending`, with a lease) and committed before
Telegram is called. A row still `sending` after its lease belonged to a process that died while
sending; it may have arrived, so it becomes `unknown` and is not sent again. Finished sends
are recorded in the same transaction that claims the rows replacing them, so at most
`concurrency` rows are ever `sending` (sent or not), which bounds how many can end up `unknown`.

One concern per module: `limiter` (Telegram's rates), `claim` (claiming and reclaiming rows),
`recipients` (who gets a row, and whether now), `send` (one send; Telegram's answer → a state),
`record` (writing outcomes), `deliverer` (the run that ties them together).
"""

from bot.outbox.deliverer import Deliverer
from bot.outbox.limiter import RateLimiter
from bot.outbox.record import Report
from bot.outbox.send import MAX_ATTEMPTS

__all__ = ["MAX_ATTEMPTS", "Deliverer", "RateLimiter", "Report"]
