"""PostgreSQL: keep each paper row whole, with its search vector compressed inline (search speed).

A paper's `search_vector` (title, authors and abstract with positions) is 3–8 kB before compression.
With PostgreSQL's default 2 kB tuple target the toaster moves it out of line into the TOAST table, and
every full-text test of a row (`@@` on a candidate, `ts_rank`, `ts_filter`) then fetches it back
through the TOAST index: about 4 µs a row, the largest cost of a search. With a 4 kB target the
toaster compresses the vector in place (about 1.7 kB) and stops there, so a row is read in one piece
(about 1.5 µs). The heap holds two or three rows per page instead of five, with the TOAST table
mostly empty, so the database does not grow. `docs/benchmarks.md` has the figures.

The setting only applies to rows as they are written, so the upgrade rewrites the table (`CLUSTER`,
in primary-key order, under an exclusive lock: about 15 s per 100,000 papers) and then drops the
clustering mark so nothing else changes. SQLite is unaffected.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Bytes; PostgreSQL accepts 128 up to 8160 (a page minus its header).
PAPERS_TOAST_TUPLE_TARGET = 4080


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE papers SET (toast_tuple_target = {PAPERS_TOAST_TUPLE_TARGET})")
    op.execute("CLUSTER papers USING pk_papers")
    op.execute("ALTER TABLE papers SET WITHOUT CLUSTER")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Rows written from now on use the default target again; existing rows are valid either way.
    op.execute("ALTER TABLE papers RESET (toast_tuple_target)")
