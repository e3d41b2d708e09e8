"""begeleidingsplan: the estimate, goals per phase with their history and responses, plan
reviews, reflections of the evaluatiefase, how a placement ended; answers about a goal

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.crypto
import storage.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.models.UtcDateTime(timezone=True), nullable=nullable)


def _person(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("person.id", ondelete="SET NULL"), nullable=True
    )


def _placement() -> sa.Column[object]:
    return sa.Column(
        "placement_id",
        sa.Integer(),
        sa.ForeignKey("placement.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "plan_estimate",
        sa.Column("id", sa.Integer(), primary_key=True),
        _placement(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("note", storage.crypto.EncryptedText(), nullable=True),
        sa.Column("intensity", sa.String(length=20), nullable=False),
        _person("created_by_person_id"),
        _when("created_at"),
        sa.UniqueConstraint("placement_id", "version"),
    )
    op.create_table(
        "plan_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        _placement(),
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("meeting.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _when("sent_at", nullable=True),
        _when("recorded_at", nullable=True),
        sa.Column("note", storage.crypto.EncryptedText(), nullable=True),
        sa.Column("next_review", sa.Date(), nullable=True),
        _person("recorded_by_person_id"),
        _when("created_at"),
    )
    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), primary_key=True),
        _placement(),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("side", sa.String(length=20), nullable=False),
        sa.Column("suggestion", sa.String(length=40), nullable=True),
        sa.Column("text", storage.crypto.EncryptedText(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        _person("created_by_person_id"),
        _when("created_at"),
        _when("changed_at", nullable=True),
    )
    op.create_index("ix_goal_placement_id_status", "goal", ["placement_id", "status"])
    op.create_table(
        "goal_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "goal_id", sa.Integer(), sa.ForeignKey("goal.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("suggestion", sa.String(length=40), nullable=True),
        sa.Column("text", storage.crypto.EncryptedText(), nullable=True),
        sa.Column(
            "review_id",
            sa.Integer(),
            sa.ForeignKey("plan_review.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _person("by_person_id"),
        _when("at"),
    )
    op.create_index("ix_goal_event_goal_id", "goal_event", ["goal_id"])
    op.create_table(
        "goal_response",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "goal_id", sa.Integer(), sa.ForeignKey("goal.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("agreed", sa.Boolean(), nullable=True),
        sa.Column("comment", storage.crypto.EncryptedText(), nullable=True),
        _when("at"),
        sa.UniqueConstraint("goal_id", "person_id"),
    )
    op.create_table(
        "reflection",
        sa.Column("id", sa.Integer(), primary_key=True),
        _placement(),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("person.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("question", sa.String(length=24), nullable=False),
        sa.Column("text", storage.crypto.EncryptedText(), nullable=True),
        _when("asked_at"),
        _when("answered_at", nullable=True),
        sa.UniqueConstraint("placement_id", "person_id", "question"),
    )
    op.create_table(
        "placement_ending",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "placement_id",
            sa.Integer(),
            sa.ForeignKey("placement.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("talks", sa.JSON(), nullable=False),
        sa.Column("handover", sa.Boolean(), nullable=False),
        _person("closed_by_person_id"),
        _when("closed_at"),
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("goal_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_answer_goal_id", ["goal_id"])
        batch_op.create_foreign_key(
            "fk_answer_goal_id_goal", "goal", ["goal_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_constraint("fk_answer_goal_id_goal", type_="foreignkey")
        batch_op.drop_index("ix_answer_goal_id")
        batch_op.drop_column("goal_id")
    for table in (
        "placement_ending",
        "reflection",
        "goal_response",
        "goal_event",
        "goal",
        "plan_review",
        "plan_estimate",
    ):
        op.drop_table(table)
