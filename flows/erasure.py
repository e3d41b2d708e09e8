"""What an erasure (or the retention purge) must also reach: rows of *other* people that name
or quote the erased person.

The erased person's own rows go by delete or cascade. But messages to others still hold their
name or their words: "Olga doet nu mee" to the begeleider, a contact alert, an RSVP notice, a
digest quoting an answer; a begeleider's unfinished /afspraak lists her by name. These are found
among the rows of the people who shared a placement with her, by walking the stored strings for
her first name (a whole word, any case) and for the start of each answer she typed.

- an outbox row already final is blanked (its key, status and times stay as proof of delivery);
- a pending one is dropped and blanked (sending it would show erased data);
- one being sent right now is flagged ephemeral, so it is blanked as soon as it is recorded;
- a conversation draft that mentions her is deleted (the other person starts that step again);
- a meeting place that names her is removed;
- a plan review's note that names or quotes her is removed (the review itself stays).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from markupsafe import escape
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.outbox import BLANK
from storage.models import (
    Answer,
    ConversationState,
    Goal,
    GoalEvent,
    GoalResponse,
    Meeting,
    OutboxMessage,
    OutboxStatus,
    Participant,
    Placement,
    PlanEstimate,
    PlanReview,
    Reflection,
    Role,
    StaffMember,
    TelegramLink,
)

# The start of a typed answer is enough to recognise a quote of it (the digest shortens long
# answers); shorter answers ("ja", "goed") say nothing about anyone and would match everywhere.
QUOTE_NEEDLE = 60
QUOTE_MIN = 5


@dataclass
class Traces:
    """What identifies the erased: first names and youth aliases (whole words), typed text."""

    words: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)

    def add_text(self, text: str | None) -> None:
        lines = (text or "").strip().splitlines()
        needle = " ".join(lines[0].split())[:QUOTE_NEEDLE] if lines else ""
        if len(needle) >= QUOTE_MIN:
            self.texts.add(needle)

    def matcher(self) -> re.Pattern[str] | None:
        alternatives: set[str] = set()
        for word in self.words:
            for form in _forms(word):
                alternatives.add(rf"(?<!\w){re.escape(form)}(?!\w)")
        for text in self.texts:
            alternatives.update(re.escape(form) for form in _forms(text))
        if not alternatives:
            return None
        return re.compile("|".join(sorted(alternatives)), re.IGNORECASE)


def _forms(value: str) -> set[str]:
    # As typed, and as escaped in a rendered message (Jinja's autoescape and html.escape differ).
    return {value, str(escape(value)), html.escape(value)}


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value (keys too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def mentions(value: Any, pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(text) for text in strings_in(value))


async def typed_by(session: AsyncSession, person_ids: Iterable[int], traces: Traces) -> None:
    """Add what these people typed (answers, reflections) to the traces; call before their
    rows go."""
    await _add_typed(session, Answer.person_id, set(person_ids), traces)
    await _add_reflections(session, Reflection.person_id, set(person_ids), traces)


async def typed_in(session: AsyncSession, placement_ids: Iterable[int], traces: Traces) -> None:
    """Add every answer and reflection typed in these placements to the traces (before the
    placements go)."""
    await _add_typed(session, Answer.placement_id, set(placement_ids), traces)
    await _add_reflections(session, Reflection.placement_id, set(placement_ids), traces)


async def _add_typed(session: AsyncSession, column: Any, ids: set[int], traces: Traces) -> None:
    if not ids:
        return
    texts = await session.scalars(
        select(Answer.text).where(column.in_(ids), Answer.text.is_not(None))
    )
    for text in texts:
        traces.add_text(text)
    # A word about their goals ("Klopt dit voor jou?"): their own row goes, a quote of it not.
    if column is Answer.person_id:
        words = await session.scalars(
            select(GoalResponse.comment).where(
                GoalResponse.person_id.in_(ids), GoalResponse.comment.is_not(None)
            )
        )
    else:
        words = await session.scalars(
            select(GoalResponse.comment)
            .join(Goal, Goal.id == GoalResponse.goal_id)
            .where(Goal.placement_id.in_(ids), GoalResponse.comment.is_not(None))
        )
    for word in words:
        traces.add_text(word)


async def _add_reflections(
    session: AsyncSession, column: Any, ids: set[int], traces: Traces
) -> None:
    if not ids:
        return
    texts = await session.scalars(
        select(Reflection.text).where(column.in_(ids), Reflection.text.is_not(None))
    )
    for text in texts:
        traces.add_text(text)


async def placements_of(session: AsyncSession, person_id: int) -> set[int]:
    """The placements a person takes part in or works on."""
    joined = set(
        await session.scalars(
            select(Participant.placement_id).where(Participant.person_id == person_id)
        )
    )
    staff_ids = select(StaffMember.id).where(StaffMember.person_id == person_id)
    worked = set(
        await session.scalars(
            select(Placement.id).where(
                Placement.begeleider_id.in_(staff_ids) | Placement.behandelaar_id.in_(staff_ids)
            )
        )
    )
    return joined | worked


async def coordinators_of(session: AsyncSession, staff_ids: Iterable[int]) -> set[int]:
    """The coordinators of the organisations these staff rows belong to."""
    ids = set(staff_ids)
    if not ids:
        return set()
    return set(
        await session.scalars(
            select(StaffMember.person_id).where(
                StaffMember.role == Role.COORDINATOR,
                StaffMember.organisation_id.in_(
                    select(StaffMember.organisation_id).where(StaffMember.id.in_(ids))
                ),
            )
        )
    )


async def people_of(session: AsyncSession, placement_ids: Iterable[int]) -> set[int]:
    """Everyone in these placements: participants, their begeleider and behandelaar, and the
    coordinators of their organisations."""
    ids = set(placement_ids)
    if not ids:
        return set()
    participants = set(
        await session.scalars(
            select(Participant.person_id).where(Participant.placement_id.in_(ids))
        )
    )
    staff = set(
        await session.scalars(
            select(StaffMember.person_id).where(
                StaffMember.id.in_(select(Placement.begeleider_id).where(Placement.id.in_(ids)))
                | StaffMember.id.in_(select(Placement.behandelaar_id).where(Placement.id.in_(ids)))
            )
        )
    )
    # The coordinators of their organisations: the organisation overview (flows/org_overview.py)
    # names placements' aliases and begeleiders' first names in their outbox.
    coordinators = set(
        await session.scalars(
            select(StaffMember.person_id).where(
                StaffMember.role == Role.COORDINATOR,
                StaffMember.organisation_id.in_(
                    select(Placement.organisation_id).where(Placement.id.in_(ids))
                ),
            )
        )
    )
    return participants | staff | coordinators


@dataclass
class Scrubbed:
    blanked: int = 0
    dropped: int = 0
    drafts: int = 0
    places: int = 0
    plan: int = 0  # goal words, goal history and estimate notes with the name taken out


async def scrub(
    session: AsyncSession,
    traces: Traces,
    *,
    people: Iterable[int],
    placement_ids: Iterable[int],
    now: dt.datetime,
) -> Scrubbed:
    """Blank or drop what names the traces among these people's rows; return what was done."""
    done = Scrubbed()
    pattern = traces.matcher()
    people = set(people)
    if pattern is None:
        return done
    if people:
        await _scrub_outbox(session, pattern, people, now, done)
        await _scrub_drafts(session, pattern, people, done)
    await _scrub_places(session, pattern, set(placement_ids), done)
    await _scrub_review_notes(session, pattern, set(placement_ids))
    await _scrub_plan(session, pattern, set(placement_ids), done)
    return done


async def _scrub_outbox(
    session: AsyncSession,
    pattern: re.Pattern[str],
    people: set[int],
    now: dt.datetime,
    done: Scrubbed,
) -> None:
    # Payloads older than a week are blank already (flows.housekeeping): few rows to read.
    rows = await session.execute(
        select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.payload).where(
            OutboxMessage.person_id.in_(people), OutboxMessage.payload_cleared_at.is_(None)
        )
    )
    final, pending, sending = [], [], []
    for row_id, status, payload in rows:
        if not mentions(payload, pattern):
            continue
        if status == OutboxStatus.PENDING:
            pending.append(row_id)
        elif status == OutboxStatus.SENDING:
            sending.append(row_id)
        else:
            final.append(row_id)
    blank = {"payload": BLANK, "payload_cleared_at": now}
    if final:
        await session.execute(_by_ids(final).values(**blank))
    if pending:
        # Conditional: a deliverer that claimed it meanwhile keeps it (it becomes ephemeral).
        await session.execute(
            _by_ids(pending)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.DROPPED, last_error="names an erased person", **blank)
        )
    if pending or sending:
        # Whatever is in flight now is blanked by the deliverer the moment it is recorded.
        await session.execute(
            _by_ids(pending + sending)
            .where(OutboxMessage.status == OutboxStatus.SENDING)
            .values(ephemeral=True)
        )
    done.blanked += len(final)
    done.dropped += len(pending)


def _by_ids(ids: list[int]) -> Any:
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .execution_options(synchronize_session=False)
    )


async def _scrub_drafts(
    session: AsyncSession, pattern: re.Pattern[str], people: set[int], done: Scrubbed
) -> None:
    rows = await session.execute(
        select(ConversationState.telegram_user_id, ConversationState.data)
        .join(TelegramLink, TelegramLink.telegram_user_id == ConversationState.telegram_user_id)
        .where(TelegramLink.person_id.in_(people))
    )
    stale = [user_id for user_id, data in rows if mentions(data, pattern)]
    if stale:
        await session.execute(
            delete(ConversationState)
            .where(ConversationState.telegram_user_id.in_(stale))
            .execution_options(synchronize_session=False)
        )
    done.drafts += len(stale)


async def _scrub_places(
    session: AsyncSession, pattern: re.Pattern[str], placement_ids: set[int], done: Scrubbed
) -> None:
    if not placement_ids:
        return
    # Read through the column type (the place may be stored encrypted) and match in Python.
    rows = await session.execute(
        select(Meeting.id, Meeting.location).where(
            Meeting.placement_id.in_(placement_ids), Meeting.location.is_not(None)
        )
    )
    naming = [meeting_id for meeting_id, place in rows if place and pattern.search(place)]
    if naming:
        await session.execute(
            update(Meeting)
            .where(Meeting.id.in_(naming))
            .values(location=None)
            .execution_options(synchronize_session=False)
        )
    done.places += len(naming)


async def _scrub_review_notes(
    session: AsyncSession, pattern: re.Pattern[str], placement_ids: set[int]
) -> None:
    """A begeleider's note on a plan review (flows/plan/review.py) may name a participant."""
    if not placement_ids:
        return
    rows = await session.execute(
        select(PlanReview.id, PlanReview.note).where(
            PlanReview.placement_id.in_(placement_ids), PlanReview.note.is_not(None)
        )
    )
    naming = [review_id for review_id, note in rows if note and pattern.search(note)]
    if naming:
        await session.execute(
            update(PlanReview)
            .where(PlanReview.id.in_(naming))
            .values(note=None)
            .execution_options(synchronize_session=False)
        )


# What stays of a name in the words staff typed in the plan: the goal keeps its meaning.
REDACTED = "…"


async def _scrub_plan(
    session: AsyncSession, pattern: re.Pattern[str], placement_ids: set[int], done: Scrubbed
) -> None:
    """Take the name (or a quoted answer) out of goal words, their history and estimate notes
    that staff typed in these placements (read through the column type: stored encrypted)."""
    if not placement_ids:
        return
    columns: list[tuple[Any, Any, Any]] = [
        (Goal, Goal.text, Goal.placement_id.in_(placement_ids)),
        (
            GoalEvent,
            GoalEvent.text,
            GoalEvent.goal_id.in_(select(Goal.id).where(Goal.placement_id.in_(placement_ids))),
        ),
        (PlanEstimate, PlanEstimate.note, PlanEstimate.placement_id.in_(placement_ids)),
    ]
    for model, column, where in columns:
        rows = await session.execute(select(model.id, column).where(where, column.is_not(None)))
        for row_id, text in rows:
            if not text or not pattern.search(text):
                continue
            await session.execute(
                update(model)
                .where(model.id == row_id)
                .values({column.key: pattern.sub(REDACTED, text)})
                .execution_options(synchronize_session=False)
            )
            done.plan += 1
