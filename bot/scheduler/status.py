"""What `trends status` reports: the last harvest, the jobs' next runs, the leader, each audience's
last digest.

Read-only and quick: plain SQL through a `bot.db.reader.SqlReader`, so the command answers through the
database driver alone (`bot.db.dbapi`, no SQLAlchemy) and the same queries run in a unit of work
(`bot.db.session_reader`). The next run times come straight from the job store's table
(`apscheduler_jobs`: id and next run as a POSIX timestamp), so reading them needs neither a scheduler
nor unpickling the jobs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from bot.archive.issue_list import PICKS_OF_D
from bot.db.reader import SqlReader, as_date, as_datetime, as_moment, table_exists
from bot.lease_info import LeaseInfo, read_lease
from bot.scheduler import JOBS_TABLE, SCHEDULER_LEASE


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
    audience: str
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
    digests: tuple[DigestStatus, ...]  # each audience's newest, by audience name
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def leader_alive(self) -> bool:
        return self.leader is not None and self.leader.expires_at > self.now


_HARVEST = (
    'SELECT id, window_start, window_end, status, "trigger", fetched, inserted, updated, error, '
    "started_at, finished_at FROM harvest_runs"
)


def last_harvest(reader: SqlReader, *, done_only: bool = False) -> HarvestStatus | None:
    """The newest harvest run (the newest finished one with `done_only`), or None."""
    where = " WHERE status = 'done'" if done_only else ""
    found = reader.rows(f"{_HARVEST}{where} ORDER BY id DESC LIMIT 1")
    if not found:
        return None
    run_id, start, end, status, trigger, fetched, inserted, updated, error, started, finished = found[0]
    return HarvestStatus(
        int(run_id),
        as_date(start),
        as_date(end),
        str(status),
        str(trigger),
        int(fetched),
        int(inserted),
        int(updated),
        error,
        as_moment(started),
        as_datetime(finished),
    )


def read_jobs(reader: SqlReader) -> tuple[JobStatus, ...]:
    if not table_exists(reader, JOBS_TABLE):
        return ()
    rows = reader.rows(f"SELECT id, next_run_time FROM {JOBS_TABLE} ORDER BY id")
    return tuple(
        JobStatus(str(job_id), dt.datetime.fromtimestamp(float(ts), dt.UTC) if ts is not None else None)
        for job_id, ts in rows
    )


# Each audience's newest digest (months are "YYYY-MM", so the greatest string is the newest).
_NEWEST_DIGESTS = (
    f"SELECT a.name, d.id, d.month, d.status, d.title, d.published_at, {PICKS_OF_D} "
    "FROM digests d JOIN audiences a ON a.id = d.audience_id "
    "WHERE d.month = (SELECT max(n.month) FROM digests n WHERE n.audience_id = d.audience_id) "
    "ORDER BY a.name"
)
_DELIVERIES = (
    "SELECT s.platform, s.channel_id, v.status, v.error, "
    "(SELECT count(*) FROM delivered_messages m WHERE m.delivery_id = v.id AND m.state = 'posted') "
    "FROM deliveries v JOIN subscriptions s ON s.id = v.subscription_id "
    "WHERE v.digest_id = :digest ORDER BY s.platform, s.channel_id"
)


def _digests(reader: SqlReader) -> tuple[DigestStatus, ...]:
    digests = []
    for audience, digest_id, month, status, title, published_at, picks in reader.rows(_NEWEST_DIGESTS):
        deliveries = tuple(
            DeliveryStatus(str(platform), str(channel), str(state), int(posted), int(picks) + 1, error)
            for platform, channel, state, error, posted in reader.rows(_DELIVERIES, {"digest": digest_id})
        )
        digests.append(
            DigestStatus(
                str(audience), str(month), str(status), str(title), as_datetime(published_at), deliveries
            )
        )
    return tuple(digests)


def collect_status(reader: SqlReader, now: dt.datetime | None = None) -> StatusReport:
    """Everything `trends status` shows (run it in one unit of work, or on one driver connection)."""
    now = now or dt.datetime.now(dt.UTC)
    report = StatusReport(
        now,
        last_harvest(reader),
        last_harvest(reader, done_only=True),
        read_jobs(reader),
        read_lease(reader, SCHEDULER_LEASE),
        _digests(reader),
    )
    problems = []
    if not report.leader_alive:
        problems.append("no replica holds the scheduler lease: is `trends run` running?")
    if report.last_harvest is not None and report.last_harvest.status == "failed":
        problems.append(f"the last harvest failed: {(report.last_harvest.error or 'unknown error')[:200]}")
    return replace(report, problems=tuple(problems))
