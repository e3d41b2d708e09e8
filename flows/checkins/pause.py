"""A paused person gets no check-ins, reminders or nudges until the pause ends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, or_

from storage.models import Person


def is_paused(person: Person, now: dt.datetime) -> bool:
    """Whether this person asked for a pause that has not ended yet."""
    if not person.paused:
        return False
    return person.paused_until is None or person.paused_until > now


def not_paused(now: dt.datetime) -> ColumnElement[bool]:
    """`is_paused` as SQL, for the planners that select columns instead of people."""
    return or_(
        Person.paused.is_(False),
        and_(Person.paused_until.is_not(None), Person.paused_until <= now),
    )
