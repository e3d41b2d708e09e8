"""SQLAlchemy models: who takes part, in which placement, and what they agreed to.

Instants are stored in UTC and timezone-aware (`UtcDateTime`); SQLite forgets the offset, so the
type puts it back on load.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    Time,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.crypto import EncryptedText

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC instant on every database (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store instants timezone-aware")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


class Role(enum.StrEnum):
    OUDER = "ouder"
    GEZINSHUISOUDER = "gezinshuisouder"
    BEGELEIDER = "begeleider"
    BEHANDELAAR = "behandelaar"
    ADMIN = "admin"  # not given out: the organisation's coordinator does what the admin would
    # Per organisation: invites and deactivates staff, hands placements over, reads the
    # organisation overview and makes the pilot export. Never sees answers or family names.
    COORDINATOR = "coordinator"


PARTICIPANT_ROLES = (Role.OUDER, Role.GEZINSHUISOUDER)
STAFF_ROLES = (Role.BEGELEIDER, Role.BEHANDELAAR, Role.ADMIN, Role.COORDINATOR)


class Phase(enum.StrEnum):
    INSTALLATIEFASE = "installatiefase"
    STABILISATIEFASE = "stabilisatiefase"
    EVALUATIEFASE = "evaluatiefase"
    AFGESLOTEN = "afgesloten"


class ConsentDecision(enum.StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native ENUM type): adding a value needs no type migration.
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=_values)


def _values(cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in cls]


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime]
    # Shown wherever someone asks for help: the number to call when the chat cannot wait.
    phone: Mapped[str | None] = mapped_column(String(32))
    # The key of the pilot export's pseudonyms (a keyed hash): made at the first export, kept
    # encrypted, never exported, so the same person gets the same pseudonym in a later export.
    pseudonym_key: Mapped[str | None] = mapped_column(EncryptedText)


class Person(Base):
    """A human who uses the bot; identifying data is kept to a first name."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    # Paused: no proactive messages. `paused_until` None with `paused` True means indefinitely.
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[dt.datetime | None]
    # When the weekly check-in comes, in local time; None means the role's default.
    checkin_weekday: Mapped[int | None] = mapped_column(SmallInteger)  # 0 = Monday
    checkin_time: Mapped[dt.time | None] = mapped_column(Time)
    # When a begeleider's weekly digest comes, in local time; None means Monday 08:30.
    digest_weekday: Mapped[int | None] = mapped_column(SmallInteger)
    digest_time: Mapped[dt.time | None] = mapped_column(Time)
    # The separate, optional agreement to research use (pilot export); off until they say yes,
    # withdrawable in /instellingen. Each change is also a ConsentRecord (purpose "research").
    research_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    telegram: Mapped[TelegramLink | None] = relationship(
        back_populates="person", cascade="all, delete-orphan", uselist=False
    )


class TelegramLink(Base):
    __tablename__ = "telegram_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), unique=True
    )
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8))
    time_zone: Mapped[str] = mapped_column(String(64))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_since: Mapped[dt.datetime | None]
    linked_at: Mapped[dt.datetime]

    person: Mapped[Person] = relationship(back_populates="telegram")


class StaffMember(Base):
    """A person working for an organisation as begeleider, behandelaar or admin."""

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("organisation_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "staff_role"))
    created_at: Mapped[dt.datetime]
    # A coordinator deactivates staff who leave: the role stops working at once; the row stays
    # (placements and meetings still point at it) until retention or erasure.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[dt.datetime | None]

    person: Mapped[Person] = relationship()


class Placement(Base):
    """One youth in one gezinshuis. Only a first name or alias of the youth is stored."""

    __tablename__ = "placement"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    youth_name: Mapped[str] = mapped_column(String(40))
    gezinshuis_name: Mapped[str] = mapped_column(String(80))
    phase: Mapped[Phase] = mapped_column(_enum(Phase, "phase"))
    phase_since: Mapped[dt.datetime]
    start_date: Mapped[dt.date] = mapped_column(Date)
    # None only once a closed placement's begeleider was erased.
    begeleider_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    behandelaar_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]

    begeleider: Mapped[StaffMember | None] = relationship(foreign_keys=[begeleider_id])
    behandelaar: Mapped[StaffMember | None] = relationship(foreign_keys=[behandelaar_id])
    participants: Mapped[list[Participant]] = relationship(
        back_populates="placement", order_by="Participant.id"
    )


class Participant(Base):
    """A person taking part in one placement as ouder or gezinshuisouder."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("placement_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "participant_role"))
    joined_at: Mapped[dt.datetime]

    person: Mapped[Person] = relationship()
    placement: Mapped[Placement] = relationship(back_populates="participants")


class Invite(Base):
    """A single-use invite; only the SHA-256 of its code is stored."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "invite_role"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"))
    # The name staff invites are addressed to; participants bring their own first name.
    invitee_name: Mapped[str | None] = mapped_column(String(64))
    created_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    used_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship()
    placement: Mapped[Placement | None] = relationship()
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_person_id])


class ConsentRecord(Base):
    """What someone agreed to, refused or withdrew. A refusal keeps no personal data."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invite.id", ondelete="SET NULL"))
    decision: Mapped[ConsentDecision] = mapped_column(_enum(ConsentDecision, "consent_decision"))
    # "care": taking part at all (the privacy notice); "research": the optional pilot export.
    purpose: Mapped[str] = mapped_column(String(20), default="care")
    notice_version: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[dt.datetime]


class AccessLog(Base):
    """Who looked at or produced what, when (NEN 7513). Kept when the subject is erased."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    # One row per placement seen. No foreign key: the audit trail outlives the placement's
    # erasure, and a bare number names nobody.
    placement_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[dt.datetime]


class ConversationState(Base):
    """Which question is open for which Telegram user: survives restarts, shared by instances."""

    __tablename__ = "conversation_state"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


class CheckinStatus(enum.StrEnum):
    OPEN = "open"  # sent (or due), questions can be answered
    ANSWERED = "answered"  # every scored question answered; still changeable until it closes
    SKIPPED = "skipped"  # the person chose to skip, with a reason
    MISSED = "missed"  # closed without answers
    CANCELLED = "cancelled"  # the placement closed or the person left before it was answered


class CheckinKind(enum.StrEnum):
    WEEKLY = "weekly"
    MEASUREMENT = "measurement"  # the twice-yearly collaboration questionnaire


class Checkin(Base):
    """One weekly check-in (or one questionnaire) for one participant in one placement."""

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("participant_id", "kind", "period"),
        Index("ix_checkin_status_closes_at", "status", "closes_at"),
        Index("ix_checkin_placement_id_due_at", "placement_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "checkin_role"))
    kind: Mapped[CheckinKind] = mapped_column(_enum(CheckinKind, "checkin_kind"))
    # ISO week of the local due date ("2026-W10") or the questionnaire round ("round-7").
    period: Mapped[str] = mapped_column(String(20))
    phase: Mapped[Phase] = mapped_column(_enum(Phase, "checkin_phase"))
    questions: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[CheckinStatus] = mapped_column(_enum(CheckinStatus, "checkin_status"))
    due_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    closes_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    skip_reason: Mapped[str | None] = mapped_column(String(20))
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("measurement_round.id", ondelete="CASCADE")
    )


class Answer(Base):
    """One answer to one question of a check-in; changing it keeps one row."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("checkin_id", "question_id"),
        Index("ix_answer_placement_id_answered_at", "placement_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkin.id", ondelete="CASCADE"))
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "answer_role"))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str | None] = mapped_column(EncryptedText)  # encrypted at rest
    answered_at: Mapped[dt.datetime]
    changed_at: Mapped[dt.datetime | None]
    # The goal a progress question ("doel") asked about; None for every other question.
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="CASCADE"), index=True
    )


class MeasurementRound(Base):
    """A round of the collaboration questionnaire for one placement."""

    __tablename__ = "measurement_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    requested_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    meeting_id: Mapped[int | None]
    created_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    reported_at: Mapped[dt.datetime | None]


class ContactRequest(Base):
    """Someone asked for contact with their begeleider ("ik wil contact met mijn begeleider")."""

    __tablename__ = "contact_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "contact_role"))
    created_at: Mapped[dt.datetime]


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class Meeting(Base):
    """A route meeting; intervisie may span several placements (placement_id is then None)."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[dt.datetime]
    location: Mapped[str | None] = mapped_column(EncryptedText)  # encrypted at rest
    status: Mapped[MeetingStatus] = mapped_column(_enum(MeetingStatus, "meeting_status"))
    planned_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    # Bumped when the meeting moves, so reminders for the old time are never sent.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    invitees: Mapped[list[MeetingInvitee]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingInvitee.id"
    )


class Rsvp(enum.StrEnum):
    YES = "yes"
    NO = "no"
    OTHER_TIME = "other_time"


class MeetingInvitee(Base):
    __tablename__ = "meeting_invitee"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "invitee_role"))
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE")
    )
    rsvp: Mapped[Rsvp | None] = mapped_column(_enum(Rsvp, "rsvp"))
    rsvp_at: Mapped[dt.datetime | None]

    meeting: Mapped[Meeting] = relationship(back_populates="invitees")
    person: Mapped[Person] = relationship()


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed, with a lease; Telegram is being called
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it (blocked, bad request); not retried
    UNKNOWN = "unknown"  # it may or may not have arrived (read timeout, crash while sending)
    DROPPED = "dropped"  # no longer makes sense (meeting started, check-in closed, paused)


class OutboxMessage(Base):
    """A proactive message to send; its unique key makes planning twice create it once."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due_at", "status", "due_at"),
        # The hourly blanking reads only rows whose payload is still there (a week's worth),
        # not the years of blanked rows behind them.
        Index(
            "ix_outbox_uncleared_due_at",
            "due_at",
            postgresql_where=text("payload_cleared_at IS NULL"),
            sqlite_where=text("payload_cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    placement_id: Mapped[int | None] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE")
    )
    subject_id: Mapped[int | None]
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"))
    due_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    # Quiet hours and pauses do not hold it back (a reminder within two hours of a meeting).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime]
    # Its payload is blanked as soon as it is delivered (it names an erased person).
    ephemeral: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the payload (rendered text, images) was blanked; key, status and message id stay.
    payload_cleared_at: Mapped[dt.datetime | None]


# --- The begeleidingsplan voor samenwerking (issue #13) ---------------------------------------


class Intensity(enum.StrEnum):
    STANDARD = "standaard"
    EXTRA = "extra"  # extra support: the estimate says the collaboration may not come easily


class PlanEstimate(Base):
    """The begeleider's estimate of how constructive the collaboration looks (all versions)."""

    __tablename__ = "plan_estimate"
    __table_args__ = (UniqueConstraint("placement_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    version: Mapped[int]
    scores: Mapped[dict[str, int]] = mapped_column(JSON)  # item id (route table) -> 1..5
    note: Mapped[str | None] = mapped_column(EncryptedText)  # typed by the begeleider
    intensity: Mapped[Intensity] = mapped_column(_enum(Intensity, "plan_intensity"))
    created_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]


class GoalSide(enum.StrEnum):
    OUDER = "ouder"  # the ouders' own goal: never shown to the gezinshuisouders
    GEZINSHUISOUDER = "gezinshuisouder"  # the gezinshuisouders' own: never shown to the ouders
    SAMEN = "samen"  # the collaboration's: shown to both sides


class GoalStatus(enum.StrEnum):
    OPEN = "open"
    REACHED = "reached"
    DROPPED = "dropped"


class Goal(Base):
    """One goal of the plan, for one side (or the collaboration) in one phase."""

    __tablename__ = "goal"
    __table_args__ = (Index("ix_goal_placement_id_status", "placement_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    phase: Mapped[Phase] = mapped_column(_enum(Phase, "goal_phase"))
    side: Mapped[GoalSide] = mapped_column(_enum(GoalSide, "goal_side"))
    # A suggested goal of the route table (its words in messages/), or typed words (`text`).
    suggestion: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(EncryptedText)
    status: Mapped[GoalStatus] = mapped_column(_enum(GoalStatus, "goal_status"))
    created_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]
    changed_at: Mapped[dt.datetime | None]


class GoalEvent(Base):
    """The history of a goal: set, adjusted (with the words before), reached, dropped, kept."""

    __tablename__ = "goal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    suggestion: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(EncryptedText)
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_review.id", ondelete="SET NULL")
    )
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime]


class GoalResponse(Base):
    """A person's answer to "Klopt dit voor jou?" about a goal they may see, with a word."""

    __tablename__ = "goal_response"
    __table_args__ = (UniqueConstraint("goal_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    agreed: Mapped[bool | None]
    comment: Mapped[str | None] = mapped_column(EncryptedText)
    at: Mapped[dt.datetime]


class PlanReview(Base):
    """A review of the plan at a twice-yearly talk: sent before, recorded after."""

    __tablename__ = "plan_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime | None]  # the plan with progress went to the begeleider
    recorded_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(EncryptedText)
    next_review: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]


class Reflection(Base):
    """One person's answer to one reflective question of the evaluatiefase."""

    __tablename__ = "reflection"
    __table_args__ = (UniqueConstraint("placement_id", "person_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "reflection_role"))
    question: Mapped[str] = mapped_column(String(24))
    text: Mapped[str | None] = mapped_column(EncryptedText)
    asked_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]


class EndingReason(enum.StrEnum):
    RETURN_HOME = "thuis"  # planned: back home
    INDEPENDENCE = "zelfstandig"  # planned: living independently
    TRANSFER = "overplaatsing"  # planned: another placement
    BREAKDOWN = "breakdown"  # premature: the placement broke down (what the route prevents)
    OTHER = "anders"


class PlacementEnding(Base):
    """How a placement ended: the closing talks held, the reason as a code, the handover."""

    __tablename__ = "placement_ending"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(
        ForeignKey("placement.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[EndingReason] = mapped_column(_enum(EndingReason, "ending_reason"))
    planned: Mapped[bool]
    talks: Mapped[list[str]] = mapped_column(JSON)  # closing talks held: route meeting codes
    handover: Mapped[bool]
    closed_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL")
    )
    closed_at: Mapped[dt.datetime]


class ProcessedUpdate(Base):
    """A Telegram update that was handled; a redelivery of the same update_id is not handled again.

    Written in the same transaction as the handler's own writes (bot/webhook.py); pruned after a
    week (Telegram picks update ids at random again after a week without updates).
    """

    __tablename__ = "processed_update"
    __table_args__ = (Index("ix_processed_update_processed_at", "processed_at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[dt.datetime]
    # The replies to the person who wrote, kept in the step's transaction until they are sent
    # (bot/journal.py): a redelivery after a crash between the commit and the replies sends
    # what is left. None once sent (or when there was nothing to send).
    replies: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    replies_done: Mapped[int] = mapped_column(default=0)  # how many of them were sent
    # Until then the instance that committed is taken to be sending them itself.
    replies_lease_until: Mapped[dt.datetime | None]


class PersonTurn(Base):
    """The newest Telegram update handled for a person, for order across webhook instances.

    Upserted first in each of the person's update transactions on PostgreSQL (bot/turns.py): the
    row lock is what makes one person's updates take turns across instances, and the update id
    tells an instance that a newer press of this person was handled already. Holds a Telegram
    user id, an update id and a message id, nothing else; rows older than a day are pruned with
    the processed updates (Telegram picks update ids at random again after a week without
    updates).
    """

    __tablename__ = "person_turn"

    telegram_user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    last_update_id: Mapped[int] = mapped_column(BigInteger)
    # The message whose button that update pressed (None: not a press).
    last_message_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime]
