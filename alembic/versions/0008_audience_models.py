"""Learning per audience: each audience's text model of its votes, refitted by the scheduler.

`audience_models` holds at most one row per audience: the word weights of `bot.ranking.team`'s model
(a bounded JSON object), how many 👍/👎 papers and topic examples it was fitted on, and when. A row
is deleted with its audience. Written by `bot.audience_models.refit_all`, read by the digest ranking.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audience_models",
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column(
            "words",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("liked_votes", sa.Integer(), nullable=False),
        sa.Column("disliked_votes", sa.Integer(), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_audience_models_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audience_id", name=op.f("pk_audience_models")),
    )


def downgrade() -> None:
    op.drop_table("audience_models")
