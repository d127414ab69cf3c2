"""Audiences: many teams on one deployment, each with its topics, channels, digests and votes.

Adds `audiences` and `audience_owners` (the Slack workspaces / Discord servers whose admins administer
an audience) and an `audience_id` on topics, digests, subscriptions and votes. Every existing row
moves into the audience `default`, owned by every workspace that has a subscription today, so an
existing deployment behaves exactly as before. Uniqueness becomes per audience: a topic name and a
digest month once per audience, a vote once per (audience, workspace, user, paper).

On SQLite the four tables are rebuilt by batch operations; that drops no FTS trigger (they live on
`papers`, which is untouched, and alembic/env.py re-creates them after every run anyway), and the
rebuild runs with foreign keys off (see alembic/env.py).

The downgrade refuses while an audience other than `default` exists: folding two teams' topics
and digests into one would collide (two "2026-10" digests) or silently mix them. Delete the other
audiences first (`trends audiences delete`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_AUDIENCE = "default"
SCOPED = ("topics", "digests", "subscriptions", "votes")


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audiences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audiences")),
        sa.UniqueConstraint("name", name=op.f("uq_audiences_name")),
    )
    op.create_table(
        "audience_owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_audience_owners_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience_owners")),
        sa.UniqueConstraint(
            "audience_id", "platform", "workspace_id", name="uq_audience_owners_audience_workspace"
        ),
    )
    op.create_index("ix_audience_owners_workspace", "audience_owners", ["platform", "workspace_id"])

    bind = op.get_bind()
    audiences = sa.table(
        "audiences",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("created_by", sa.String()),
        sa.column("created_at", utc()),
    )
    bind.execute(
        audiences.insert().values(
            name=DEFAULT_AUDIENCE, created_by="migration 0006", created_at=sa.func.current_timestamp()
        )
    )
    default_id = bind.execute(
        sa.select(audiences.c.id).where(audiences.c.name == DEFAULT_AUDIENCE)
    ).scalar_one()
    # Today every platform admin administers everything; the workspaces that subscribed a channel
    # keep administering what they had (others need a deployment admin to add them as owners).
    bind.execute(
        sa.text(
            "INSERT INTO audience_owners (audience_id, platform, workspace_id, created_at) "
            "SELECT DISTINCT :audience, platform, workspace_id, CURRENT_TIMESTAMP FROM subscriptions"
        ),
        {"audience": default_id},
    )

    for table in SCOPED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("audience_id", sa.Integer(), nullable=True))
        bind.execute(sa.text(f"UPDATE {table} SET audience_id = :audience"), {"audience": default_id})

    with op.batch_alter_table("topics") as batch:
        batch.alter_column("audience_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_topics_name", type_="unique")
        batch.create_unique_constraint("uq_topics_audience_name", ["audience_id", "name"])
        batch.create_foreign_key(
            op.f("fk_topics_audience_id_audiences"), "audiences", ["audience_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("digests") as batch:
        batch.alter_column("audience_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_digests_month", type_="unique")
        batch.create_unique_constraint("uq_digests_audience_month", ["audience_id", "month"])
        batch.create_foreign_key(
            op.f("fk_digests_audience_id_audiences"), "audiences", ["audience_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("audience_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f("fk_subscriptions_audience_id_audiences"),
            "audiences",
            ["audience_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_subscriptions_audience_id"), ["audience_id"])
    with op.batch_alter_table("votes") as batch:
        batch.alter_column("audience_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_votes_platform_user_paper", type_="unique")
        batch.create_unique_constraint(
            "uq_votes_audience_user_paper", ["audience_id", "platform", "workspace_id", "user_id", "paper_id"]
        )
        batch.create_foreign_key(
            op.f("fk_votes_audience_id_audiences"), "audiences", ["audience_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    bind = op.get_bind()
    others = bind.execute(
        sa.text("SELECT name FROM audiences WHERE name <> :default ORDER BY name"),
        {"default": DEFAULT_AUDIENCE},
    ).scalars()
    names = list(others)
    if names:
        raise RuntimeError(
            "cannot downgrade below 0006 while audiences other than 'default' exist "
            f"({', '.join(names[:10])}): delete them first with `trends audiences delete <name>`"
        )
    with op.batch_alter_table("votes") as batch:
        batch.drop_constraint(op.f("fk_votes_audience_id_audiences"), type_="foreignkey")
        batch.drop_constraint("uq_votes_audience_user_paper", type_="unique")
        batch.create_unique_constraint(
            "uq_votes_platform_user_paper", ["platform", "workspace_id", "user_id", "paper_id"]
        )
        batch.drop_column("audience_id")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_index(op.f("ix_subscriptions_audience_id"))
        batch.drop_constraint(op.f("fk_subscriptions_audience_id_audiences"), type_="foreignkey")
        batch.drop_column("audience_id")
    with op.batch_alter_table("digests") as batch:
        batch.drop_constraint(op.f("fk_digests_audience_id_audiences"), type_="foreignkey")
        batch.drop_constraint("uq_digests_audience_month", type_="unique")
        batch.create_unique_constraint("uq_digests_month", ["month"])
        batch.drop_column("audience_id")
    with op.batch_alter_table("topics") as batch:
        batch.drop_constraint(op.f("fk_topics_audience_id_audiences"), type_="foreignkey")
        batch.drop_constraint("uq_topics_audience_name", type_="unique")
        batch.create_unique_constraint("uq_topics_name", ["name"])
        batch.drop_column("audience_id")
    op.drop_index("ix_audience_owners_workspace", table_name="audience_owners")
    op.drop_table("audience_owners")
    op.drop_table("audiences")
