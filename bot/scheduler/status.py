"""What `trends status` reports: the last harvest, the jobs' next runs, the leader, the last digest.

Read-only and quick: one unit of work, no network. The next run times come straight from the job
store's table (`apscheduler_jobs`: id and next run as a POSIX timestamp), so reading them needs neither
a scheduler nor unpickling the jobs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import Column, Float, MetaData, String, Table, func, inspect, select
from sqlalchemy.orm import Session

from bot.db.models import DeliveredMessage, Delivery, Digest, DigestEntry, HarvestRun, Lease, Subscription
from bot.db.uow import UnitOfWork
from bot.scheduler import JOBS_TABLE

from .leases import SCHEDULER_LEASE, LeaseInfo


@dataclass(frozen=True, slots=True)
class HarvestStatus:
    run_id: int
    window_start: dt.date
    window_end: dt.date
    status: str
    trigger: str
    fetched: int
    inserted: int
    updated: int
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class JobStatus:
    job_id: str
    next_run: dt.datetime | None  # None: paused


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    platform: str
    channel_id: str
    status: str
    posted: int
    expected: int
    error: str | None


@dataclass(frozen=True, slots=True)
class DigestStatus:
    month: str
    status: str
    title: str
    published_at: dt.datetime | None
    deliveries: tuple[DeliveryStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusReport:
    now: dt.datetime
    last_harvest: HarvestStatus | None
    last_successful_harvest: HarvestStatus | None
    jobs: tuple[JobStatus, ...]
    leader: LeaseInfo | None
    last_digest: DigestStatus | None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def leader_alive(self) -> bool:
        return self.leader is not None and self.leader.expires_at > self.now


def _harvest(run: HarvestRun | None) -> HarvestStatus | None:
    if run is None:
        return None
    return HarvestStatus(
        run.id,
        run.window_start,
        run.window_end,
        run.status,
        run.trigger,
        run.fetched,
        run.inserted,
        run.updated,
        run.error,
        run.started_at,
        run.finished_at,
    )


def read_jobs(session: Session) -> tuple[JobStatus, ...]:
    if not inspect(session.connection()).has_table(JOBS_TABLE):
        return ()
    table = Table(JOBS_TABLE, MetaData(), Column("id", String(191)), Column("next_run_time", Float))
    rows = session.execute(select(table.c.id, table.c.next_run_time).order_by(table.c.id))
    return tuple(
        JobStatus(job_id, dt.datetime.fromtimestamp(ts, dt.UTC) if ts is not None else None)
        for job_id, ts in rows
    )


def _digest(session: Session) -> DigestStatus | None:
    digest = session.scalars(select(Digest).order_by(Digest.month.desc()).limit(1)).one_or_none()
    if digest is None:
        return None
    picks = session.scalar(
        select(func.count())
        .select_from(DigestEntry)
        .where(DigestEntry.digest_id == digest.id, DigestEntry.section == "pick")
    )
    posted_counts = dict(
        session.execute(
            select(DeliveredMessage.delivery_id, func.count())
            .join(Delivery, Delivery.id == DeliveredMessage.delivery_id)
            .where(Delivery.digest_id == digest.id, DeliveredMessage.state == "posted")
            .group_by(DeliveredMessage.delivery_id)
        ).all()
    )
    rows = session.execute(
        select(Delivery, Subscription)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.digest_id == digest.id)
        .order_by(Subscription.platform, Subscription.channel_id)
    )
    deliveries = tuple(
        DeliveryStatus(
            subscription.platform,
            subscription.channel_id,
            delivery.status,
            int(posted_counts.get(delivery.id, 0)),
            int(picks or 0) + 1,
            delivery.error,
        )
        for delivery, subscription in rows
    )
    return DigestStatus(digest.month, digest.status, digest.title, digest.published_at, deliveries)


def collect_status(uow: UnitOfWork, now: dt.datetime | None = None) -> StatusReport:
    """Everything `trends status` shows, read in one unit of work."""
    now = now or dt.datetime.now(dt.UTC)
    with uow:
        session = uow.session
        last = session.scalars(select(HarvestRun).order_by(HarvestRun.id.desc()).limit(1)).one_or_none()
        good = session.scalars(
            select(HarvestRun).where(HarvestRun.status == "done").order_by(HarvestRun.id.desc()).limit(1)
        ).one_or_none()
        lease = session.get(Lease, SCHEDULER_LEASE)
        leader = LeaseInfo(lease.name, lease.holder, lease.expires_at, lease.acquired_at) if lease else None
        report = StatusReport(
            now, _harvest(last), _harvest(good), read_jobs(session), leader, _digest(session)
        )
    problems = []
    if not report.leader_alive:
        problems.append("no replica holds the scheduler lease: is `trends run` running?")
    if report.last_harvest is not None and report.last_harvest.status == "failed":
        problems.append(f"the last harvest failed: {(report.last_harvest.error or 'unknown error')[:200]}")
    return replace(report, problems=tuple(problems))
