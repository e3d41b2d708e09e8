"""the organisation: coordinators, deactivated staff, research consent, pseudonym key

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 16:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.crypto
import storage.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pseudonym_key", storage.crypto.EncryptedText(), nullable=True)
        )
    # Existing rows get the defaults once (staff active, no research consent, consent for care);
    # the server defaults go again so the models stay the one place that says what is written.
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("deactivated_at", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.alter_column("active", server_default=None)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("research_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("research_consent", server_default=None)
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=20), nullable=False, server_default="care")
        )
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.alter_column("purpose", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.drop_column("purpose")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("research_consent")
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("active")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("pseudonym_key")
