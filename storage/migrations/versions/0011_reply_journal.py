"""a step's replies kept with its processed update until sent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replies", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("replies_done", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "replies_lease_until", storage.models.UtcDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.alter_column("replies_done", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.drop_column("replies_lease_until")
        batch_op.drop_column("replies_done")
        batch_op.drop_column("replies")
