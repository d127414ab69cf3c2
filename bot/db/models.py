"""SQLAlchemy 2.x models: the schema the Alembic migrations build, and the only one.

The full-text index is deliberately *not* modelled here: it is dialect-specific (an FTS5 table on
SQLite, a generated tsvector column with a GIN index on PostgreSQL), lives in the migrations and in
`bot.db.fts`, and is excluded from `alembic check` by name (see `alembic/env.py`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class JSONType(TypeDecorator[Any]):
    """JSON, stored as JSONB on PostgreSQL.

    A decorator rather than `JSON().with_variant(JSONB(), ...)` so that importing the models does not
    import the PostgreSQL dialect: every `trends` command imports them (bench/cli_startup.py).
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012  (SQLAlchemy reads this class attribute)
        dt.datetime: UTCDateTime(),
        list[str]: JSONType(),
        dict[str, Any]: JSONType(),
    }


class Paper(Base):
    """One arXiv paper, all versions collapsed into one row keyed by the base id."""

    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]]
    # Space-joined authors, indexed by the full-text search alongside title and abstract.
    authors_text: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]]
    primary_category: Mapped[str] = mapped_column(String(32), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(index=True)
    updated_at: Mapped[dt.datetime]
    announced_on: Mapped[dt.date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255))
    abs_url: Mapped[str] = mapped_column(String(255))
    pdf_url: Mapped[str] = mapped_column(String(255))
    code_url: Mapped[str | None] = mapped_column(String(500))
    project_url: Mapped[str | None] = mapped_column(String(500))
    harvested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class HarvestRun(Base):
    """One `trends harvest` (or scheduled harvest) of a submitted-date window; the resume point."""

    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    categories: Mapped[list[str]]
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="cli")
    # Everything submitted before this instant in the window is stored; a resumed run starts here.
    cursor: Mapped[dt.datetime | None]
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class Audience(Base):
    """A team served by the deployment: its own topics, subscribed channels and monthly digest.

    Every deployment has `default` (what existed before audiences); more are created by admins.
    """

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    owners: Mapped[list[AudienceOwner]] = relationship(
        back_populates="audience", cascade="all, delete-orphan", order_by="AudienceOwner.id"
    )


class AudienceOwner(Base):
    """A Slack workspace or Discord server whose admins administer an audience."""

    __tablename__ = "audience_owners"
    __table_args__ = (
        UniqueConstraint(
            "audience_id", "platform", "workspace_id", name="uq_audience_owners_audience_workspace"
        ),
        Index("ix_audience_owners_workspace", "platform", "workspace_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))  # slack | discord
    workspace_id: Mapped[str] = mapped_column(String(64))  # Slack team id / Discord guild id
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    audience: Mapped[Audience] = relationship(back_populates="owners")


class Topic(Base):
    """A subject an audience cares about; its admins configure these and the ranking scores against them."""

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("audience_id", "name", name="uq_topics_audience_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    include_phrases: Mapped[list[str]] = mapped_column(default=list)
    exclude_phrases: Mapped[list[str]] = mapped_column(default=list)
    example_ids: Mapped[list[str]] = mapped_column(default=list)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Digest(Base):
    """The digest of one audience for one month: a draft until published, immutable afterwards."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("audience_id", "month", name="uq_digests_audience_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-10"
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published
    title: Mapped[str] = mapped_column(Text)
    intro: Mapped[str] = mapped_column(Text, default="")
    topics_covered: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    # When the scheduler sent the draft to the approval channel (approval mode); None: not yet sent.
    approval_requested_at: Mapped[dt.datetime | None]

    entries: Mapped[list[DigestEntry]] = relationship(
        back_populates="digest",
        cascade="all, delete-orphan",
        order_by="DigestEntry.position",
    )


class DigestEntry(Base):
    """A paper in a digest: a pick (with Why/Key insights) or one of the 'other papers'."""

    __tablename__ = "digest_entries"
    __table_args__ = (
        UniqueConstraint("digest_id", "paper_id", name="uq_digest_entries_digest_paper"),
        UniqueConstraint("digest_id", "position", name="uq_digest_entries_digest_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(16), default="pick")  # pick | other
    topic_name: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="")
    why: Mapped[str] = mapped_column(Text, default="")
    insights: Mapped[str] = mapped_column(Text, default="")

    digest: Mapped[Digest] = relationship(back_populates="entries")
    paper: Mapped[Paper] = relationship()


class PaperSummary(Base):
    """A cached Why/Key-insights pair per paper and summarizer (LLM calls cost money and time)."""

    __tablename__ = "paper_summaries"
    __table_args__ = (UniqueConstraint("paper_id", "summarizer", name="uq_paper_summaries_paper_summarizer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    summarizer: Mapped[str] = mapped_column(String(128))  # e.g. "offline-v4", "llm-v3:<model>"
    paper_version: Mapped[int] = mapped_column(Integer, default=1)
    why: Mapped[str] = mapped_column(Text)
    insights: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A chat channel that receives one audience's digests (a channel follows one audience)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "channel_id", name="uq_subscriptions_platform_channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # slack | discord
    workspace_id: Mapped[str] = mapped_column(String(64))  # Slack team id / Discord guild id
    channel_id: Mapped[str] = mapped_column(String(64))
    channel_kind: Mapped[str] = mapped_column(String(16), default="text")  # text | forum
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """Posting one digest to one subscribed channel; resumable message by message."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("digest_id", "subscription_id", name="uq_deliveries_digest_subscription"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|posting|done|failed
    thread_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    messages: Mapped[list[DeliveredMessage]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", order_by="DeliveredMessage.position"
    )


class DeliveredMessage(Base):
    """One message of a delivery: position 0 is the parent, 1..n the replies.

    The row is written *before* posting with state "posting" and no message id, then completed with
    the id. A row left in "posting" by a crash is reconciled with the platform before anything is
    re-posted, which is what makes delivery exactly-once (see bot/delivery.py).
    """

    __tablename__ = "delivered_messages"
    __table_args__ = (
        UniqueConstraint("delivery_id", "position", name="uq_delivered_messages_delivery_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    paper_id: Mapped[int | None] = mapped_column(ForeignKey("papers.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="posted")  # posting | posted
    message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    posted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    delivery: Mapped[Delivery] = relationship(back_populates="messages")


class Vote(Base):
    """A 👍/👎 reaction on a pick, one per (audience, workspace, user, paper).

    The audience is the one of the channel the pick was posted in (its subscription's), so votes can
    train that audience's ranking only.
    """

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint(
            "audience_id",
            "platform",
            "workspace_id",
            "user_id",
            "paper_id",
            name="uq_votes_audience_user_paper",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)  # +1 or -1
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AudienceModel(Base):
    """An audience's own text model of its taste (`bot.ranking.team`), refitted by the scheduler from
    its 👍/👎 votes and its topics' example papers; its digest ranking adds it as "team votes"."""

    __tablename__ = "audience_models"

    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True)
    words: Mapped[dict[str, Any]] = mapped_column()  # folded word -> SVM weight (at most MAX_WORDS)
    liked_votes: Mapped[int] = mapped_column(Integer)  # papers with a net 👍 of this audience
    disliked_votes: Mapped[int] = mapped_column(Integer)  # papers with a net 👎
    examples: Mapped[int] = mapped_column(Integer)  # topic example papers among the positives
    fitted_at: Mapped[dt.datetime] = mapped_column()


class PaperSignal(Base):
    """A time-stamped momentum reading (citations, upvotes, stars) so growth can be computed."""

    __tablename__ = "paper_signals"
    __table_args__ = (Index("ix_paper_signals_lookup", "paper_id", "source", "name", "observed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))  # semantic_scholar | huggingface | github
    name: Mapped[str] = mapped_column(String(64))  # citations | upvotes | stars | …
    value: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lease with expiry: the scheduler leader holds "scheduler" and renews it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime]
    acquired_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SchedulerJob(Base):
    """APScheduler's job store table, declared here so that migrations, not APScheduler, create it.

    The columns mirror `apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore` (3.11): the job store finds
    the table already there and leaves it alone.
    """

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


# --- Slack installs by OAuth (adapters/slack/installations.py) ---------------------------------


class SlackInstallation(Base):
    """A Slack workspace the app was installed in through OAuth (`/slack/install`), with its bot token.

    One row per workspace: a reinstall replaces it, an uninstall deletes it. `enterprise_id` is ""
    outside Enterprise Grid so that the unique key holds on PostgreSQL too (NULLs never collide there).
    The tokens are secrets: never logged or shown, and stored encrypted (`bot.token_cipher`, with
    `TRENDS_TOKEN_KEY`; rows from before are sealed at start-up).
    """

    __tablename__ = "slack_installations"
    __table_args__ = (UniqueConstraint("team_id", "enterprise_id", name="uq_slack_installations_workspace"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_name: Mapped[str] = mapped_column(String(255), default="")
    app_id: Mapped[str] = mapped_column(String(32), default="")
    bot_id: Mapped[str] = mapped_column(String(32))
    bot_user_id: Mapped[str] = mapped_column(String(32))
    bot_token: Mapped[str] = mapped_column(Text)
    bot_scopes: Mapped[str] = mapped_column(Text, default="")  # comma-separated, as Slack gives them
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)  # token rotation only
    bot_token_expires_at: Mapped[dt.datetime | None]  # token rotation only
    installer_user_id: Mapped[str] = mapped_column(String(32), default="")
    installed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SlackOAuthState(Base):
    """A pending `/slack/install`: the SHA-256 of the state given to the browser, until used or expired."""

    __tablename__ = "slack_oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
