"""privacy: access log per placement, outbox payloads that expire, meeting places as free text

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("placement_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_access_log_placement_id"), ["placement_id"], unique=False
        )
    # A closed placement outlives its begeleider's erasure (retention runs from its end).
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.alter_column("begeleider_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ephemeral", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("payload_cleared_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("ephemeral", server_default=None)
        batch_op.create_index(
            "ix_outbox_uncleared_due_at",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("payload_cleared_at IS NULL"),
            sqlite_where=sa.text("payload_cleared_at IS NULL"),
        )
    # Meeting places are stored encrypted: the ciphertext is longer than the 200 typed characters.
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.alter_column(
            "location",
            existing_type=sa.String(length=200),
            type_=sa.Text(),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.alter_column("begeleider_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.alter_column(
            "location",
            existing_type=sa.Text(),
            type_=sa.String(length=200),
            existing_nullable=True,
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_uncleared_due_at")
        batch_op.drop_column("payload_cleared_at")
        batch_op.drop_column("ephemeral")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_placement_id"))
        batch_op.drop_column("placement_id")
