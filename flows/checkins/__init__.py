"""The weekly check-in, one concern per module.

- `plan`: run by the clock: end pauses, close check-ins that ran out, create the week's
  check-ins, queue the one reminder, note delivery.
- `ask`: one question as a message with its buttons; the open question at the end.
- `answer`: a button press (answer, skip and its reason, done, continue); the fast press path.
- `free_text`: the typed answer to the open question, and typing while buttons wait.
- `pause`: whether a person is paused (in Python and as SQL).

The questions, rhythm and tips per role and phase are the route's (flows/route.py).
Other modules import from this package, not from its modules: the names below are its face.
"""

from flows.checkins.answer import press
from flows.checkins.ask import question_say
from flows.checkins.free_text import OPEN_TEXT_FLOW, open_text, typed_while_open
from flows.checkins.pause import is_paused
from flows.checkins.plan import (
    active_participants,
    after_delivery,
    plan_reminders,
    plan_weekly,
    tidy,
)

__all__ = [
    "OPEN_TEXT_FLOW",
    "active_participants",
    "after_delivery",
    "is_paused",
    "open_text",
    "plan_reminders",
    "plan_weekly",
    "press",
    "question_say",
    "tidy",
    "typed_while_open",
]
