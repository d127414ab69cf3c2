"""Delivered messages record an in-flight state (exactly-once posting); scheduler leases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivered_messages") as batch:
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="posted"))
        batch.alter_column("message_id", existing_type=sa.String(length=64), nullable=True)
    with op.batch_alter_table("delivered_messages") as batch:
        batch.alter_column("state", server_default=None)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    # In-flight rows have no message id and cannot survive the older schema.
    op.execute("DELETE FROM delivered_messages WHERE message_id IS NULL")
    with op.batch_alter_table("delivered_messages") as batch:
        batch.alter_column("message_id", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("state")
