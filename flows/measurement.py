"""/meting: the twice-yearly collaboration questionnaire, sent to both sides of a placement.

It reuses the check-in machinery (one question at a time, change, skip, one reminder); its
answers are stored per dimension. The results for behandelaar and begeleider come from the
digest work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import access, guards
from flows.authz import Action
from flows.buttons import MEASURE_FOR, MEASURE_GO, NEVER_MIND
from flows.checkins import question_say
from flows.outbox import enqueue
from flows.people import Caller, staff_link
from flows.questions import DIMENSIONS, MEASUREMENT_QUESTIONS
from flows.replies import Outcome, Say
from storage.models import (
    Answer,
    Checkin,
    CheckinKind,
    CheckinStatus,
    MeasurementRound,
    Participant,
    Person,
    Placement,
    Role,
    TelegramLink,
)

ROUND_OPEN_FOR = dt.timedelta(days=7)


async def choose(session: AsyncSession, caller: Caller, now: dt.datetime) -> Outcome:
    """List the staff member's open placements to send the questionnaire for."""
    me = await guards.staff(session, caller, Action.SEND_MEASUREMENT)
    if isinstance(me, Outcome):
        return me
    placements = await guards.open_placements_of(session, me, Action.SEND_MEASUREMENT)
    if not placements:
        return Outcome(me.language).say("phase/none")
    buttons = tuple(
        (
            MEASURE_FOR.button(
                "phase_placement", {"youth": p.youth_name, "phase": str(p.phase)}, placement=p.id
            ),
        )
        for p in placements
    )
    return Outcome(me.language).add(Say("measurement/choose_placement", buttons=buttons))


async def confirm(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """Say what will be sent to whom, and ask to confirm."""
    found = await guards.placement_press(session, caller, placement_id, Action.SEND_MEASUREMENT)
    if isinstance(found, Outcome):
        return found
    me, placement = found
    out = Outcome(me.language)
    if await _open_round(session, placement.id, now) is not None:
        return out.add(Say("measurement/already_open", {"youth": placement.youth_name}, edit=True))
    buttons = (
        (MEASURE_GO.button("send_measurement", placement=placement.id),),
        (NEVER_MIND.button("never_mind"),),
    )
    return out.add(
        Say(
            "measurement/confirm",
            {"youth": placement.youth_name, "days": ROUND_OPEN_FOR.days},
            buttons=buttons,
            edit=True,
        )
    )


async def send(
    session: AsyncSession, caller: Caller, placement_id: int, now: dt.datetime
) -> Outcome:
    """Start a round for the placement (the staff member confirmed)."""
    found = await guards.placement_press(session, caller, placement_id, Action.SEND_MEASUREMENT)
    if isinstance(found, Outcome):
        return found
    me, placement = found
    out = Outcome(me.language)
    if await _open_round(session, placement.id, now) is not None:
        return out.add(Say("measurement/already_open", {"youth": placement.youth_name}, edit=True))
    sent_to = await start_round(session, placement, me.person.id, now)
    out.kick_outbox = True
    return out.add(
        Say(
            "measurement/started",
            {"youth": placement.youth_name, "count": sent_to, "days": ROUND_OPEN_FOR.days},
            edit=True,
        )
    )


async def _open_round(
    session: AsyncSession, placement_id: int, now: dt.datetime
) -> MeasurementRound | None:
    return await session.scalar(
        select(MeasurementRound).where(
            MeasurementRound.placement_id == placement_id, MeasurementRound.closes_at > now
        )
    )


async def start_round(
    session: AsyncSession,
    placement: Placement,
    requested_by_person_id: int | None,
    now: dt.datetime,
    meeting_id: int | None = None,
) -> int:
    """Create a round and queue the questionnaire for every participant; return how many."""
    round_ = MeasurementRound(
        placement_id=placement.id,
        requested_by_person_id=requested_by_person_id,
        meeting_id=meeting_id,
        created_at=now,
        closes_at=now + ROUND_OPEN_FOR,
    )
    session.add(round_)
    await session.flush()
    rows = await session.execute(
        select(Participant, Person)
        .join(Person, Person.id == Participant.person_id)
        .join(TelegramLink, TelegramLink.person_id == Person.id)
        .where(Participant.placement_id == placement.id)
        .order_by(Participant.id)
    )
    count = 0
    for participant, person in rows:
        checkin = Checkin(
            participant_id=participant.id,
            placement_id=placement.id,
            person_id=person.id,
            role=participant.role,
            kind=CheckinKind.MEASUREMENT,
            period=f"round-{round_.id}",
            phase=placement.phase,
            questions=list(MEASUREMENT_QUESTIONS),
            status=CheckinStatus.OPEN,
            due_at=now,
            closes_at=round_.closes_at,
            round_id=round_.id,
        )
        session.add(checkin)
        await session.flush()
        count += await enqueue(
            session,
            key=f"measurement:{checkin.id}",
            person_id=person.id,
            kind="checkin",
            say=question_say(checkin, 0, None, youth=placement.youth_name, name=person.first_name),
            due_at=now,
            expires_at=checkin.closes_at,
            now=now,
            placement_id=placement.id,
            subject_id=checkin.id,
        )
    return count


# --- Results for behandelaar and begeleider --------------------------------------------------

CARDS_SHOWN = 3


async def plan_results(session: AsyncSession, now: dt.datetime) -> int:
    """Report each round that is complete (everyone answered or skipped) or a week old."""
    rounds = list(
        await session.scalars(
            select(MeasurementRound).where(MeasurementRound.reported_at.is_(None))
        )
    )
    queued = 0
    seen: list[dict[str, object]] = []
    for round_ in rounds:
        checkins = list(
            await session.scalars(select(Checkin).where(Checkin.round_id == round_.id))
        )
        done = all(c.status in (CheckinStatus.ANSWERED, CheckinStatus.SKIPPED) for c in checkins)
        if not done and round_.closes_at > now:
            continue
        round_.reported_at = now
        placement = await session.get(Placement, round_.placement_id)
        if placement is None:
            continue
        context = await _results(session, round_, placement, checkins)
        for staff_id in (placement.begeleider_id, placement.behandelaar_id):
            if staff_id is None:
                continue
            link = await staff_link(session, staff_id)
            if link is None:
                continue
            sent = await enqueue(
                session,
                key=f"measurement_results:{round_.id}:{link.person_id}",
                person_id=link.person_id,
                kind="measurement_results",
                say=Say("measurement/results", context),
                due_at=now,
                now=now,
                placement_id=placement.id,
            )
            queued += sent
            staff_person = await session.get(Person, link.person_id)
            if sent and staff_person is not None:
                # The results reach this staff member: that is a view of the placement's answers.
                seen.extend(
                    access.placement_rows(staff_person, "measurement_results", [placement.id], now)
                )
    await access.write(session, seen)
    return queued


@dataclass(frozen=True)
class DimensionResult:
    dimension: str
    ouder: float | None
    gezinshuisouder: float | None

    @property
    def gap(self) -> float | None:
        if self.ouder is None or self.gezinshuisouder is None:
            return None
        return round(abs(self.ouder - self.gezinshuisouder), 1)

    @property
    def overall(self) -> float:
        present = [v for v in (self.ouder, self.gezinshuisouder) if v is not None]
        return sum(present) / len(present) if present else 5.0


def pick_cards(rows: list[DimensionResult], shown: int = CARDS_SHOWN) -> list[str]:
    """Conversation cards: the most divergent dimension first, then the lowest-scoring ones."""
    divergent = sorted((r for r in rows if r.gap), key=lambda r: -(r.gap or 0))
    lowest = sorted(
        (r for r in rows if r.ouder is not None or r.gezinshuisouder is not None),
        key=lambda r: r.overall,
    )
    cards: list[str] = []
    for row in [*divergent[:1], *lowest, *divergent[1:]]:
        if len(cards) == shown:
            break
        worth_it = (row.gap or 0) >= 1 or row.overall < 4
        if worth_it and row.dimension not in cards:
            cards.append(row.dimension)
    return cards


async def _results(
    session: AsyncSession,
    round_: MeasurementRound,
    placement: Placement,
    checkins: list[Checkin],
) -> dict[str, object]:
    """Per dimension both sides' mean and the gap; conversation cards for the weakest spots."""
    answers = await session.execute(
        select(Answer.question_id, Answer.role, Answer.score)
        .join(Checkin, Checkin.id == Answer.checkin_id)
        .where(Checkin.round_id == round_.id, Answer.score.is_not(None))
    )
    scores: dict[tuple[str, str], list[int]] = {}
    for question_id, role, score in answers:
        if score is not None:  # filtered in SQL too; this narrows the type
            scores.setdefault((question_id, str(role)), []).append(score)
    rows = [
        DimensionResult(
            d,
            _mean(scores.get((f"dim_{d}", "ouder"))),
            _mean(scores.get((f"dim_{d}", "gezinshuisouder"))),
        )
        for d in DIMENSIONS
    ]
    answered = {
        str(role): {
            "done": sum(c.status == CheckinStatus.ANSWERED for c in checkins if c.role == role),
            "total": sum(c.role == role for c in checkins),
        }
        for role in (Role.OUDER, Role.GEZINSHUISOUDER)
    }
    return {
        "youth": placement.youth_name,
        "rows": [
            {
                "dimension": r.dimension,
                "ouder": r.ouder,
                "gezinshuisouder": r.gezinshuisouder,
                "gap": r.gap,
            }
            for r in rows
        ],
        "cards": pick_cards(rows),
        "answered": answered,
    }


def _mean(values: list[int] | None) -> float | None:
    return round(sum(values) / len(values), 1) if values else None
