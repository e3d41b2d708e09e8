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
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
    ADMIN = "admin"


PARTICIPANT_ROLES = (Role.OUDER, Role.GEZINSHUISOUDER)
STAFF_ROLES = (Role.BEGELEIDER, Role.BEHANDELAAR, Role.ADMIN)


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


class Person(Base):
    """A human who uses the bot; identifying data is kept to a first name."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    # Paused: no proactive messages. `paused_until` None with `paused` True means indefinitely.
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[dt.datetime | None]

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
    begeleider_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    behandelaar_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]

    begeleider: Mapped[StaffMember] = relationship(foreign_keys=[begeleider_id])
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
    at: Mapped[dt.datetime]


class ConversationState(Base):
    """Which question is open for which Telegram user: survives restarts, shared by instances."""

    __tablename__ = "conversation_state"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime]


__all__ = [
    "PARTICIPANT_ROLES",
    "STAFF_ROLES",
    "AccessLog",
    "Base",
    "ConsentDecision",
    "ConsentRecord",
    "ConversationState",
    "Invite",
    "Organisation",
    "Participant",
    "Person",
    "Phase",
    "Placement",
    "Role",
    "StaffMember",
    "TelegramLink",
]
