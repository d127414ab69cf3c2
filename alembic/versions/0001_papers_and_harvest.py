"""Papers with their full-text index, and harvest runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op
from bot.db import fts

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def json_type() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("abstract", sa.Text(), nullable=False),
        sa.Column("authors", json_type(), nullable=False),
        sa.Column("authors_text", sa.Text(), nullable=False),
        sa.Column("categories", json_type(), nullable=False),
        sa.Column("primary_category", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("journal_ref", sa.Text(), nullable=True),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("abs_url", sa.String(length=255), nullable=False),
        sa.Column("pdf_url", sa.String(length=255), nullable=False),
        sa.Column("code_url", sa.String(length=500), nullable=True),
        sa.Column("project_url", sa.String(length=500), nullable=True),
        sa.Column("harvested_at", utc(), nullable=False),
        sa.Column("refreshed_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_papers")),
        sa.UniqueConstraint("arxiv_id", name=op.f("uq_papers_arxiv_id")),
    )
    op.create_index(op.f("ix_papers_primary_category"), "papers", ["primary_category"])
    op.create_index(op.f("ix_papers_submitted_at"), "papers", ["submitted_at"])
    fts.create_index(op.get_bind())

    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("categories", json_type(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("cursor", utc(), nullable=True),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", utc(), nullable=False),
        sa.Column("finished_at", utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_runs")),
    )
    op.create_index(op.f("ix_harvest_runs_status"), "harvest_runs", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_harvest_runs_status"), table_name="harvest_runs")
    op.drop_table("harvest_runs")
    fts.drop_index(op.get_bind())
    op.drop_index(op.f("ix_papers_submitted_at"), table_name="papers")
    op.drop_index(op.f("ix_papers_primary_category"), table_name="papers")
    op.drop_table("papers")
