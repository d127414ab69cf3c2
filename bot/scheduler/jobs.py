"""The scheduled jobs: the daily harvest (then a signals refresh and the audiences' vote models) and
the monthly digest.

APScheduler stores jobs as "module:function" strings (`HARVEST_FUNC`, `DIGEST_FUNC`): the functions
take no arguments and find the running app in `bot.scheduler.context`. The work itself is in
`run_harvest`, `run_signals` and `run_digest`, which take the context (and so an injectable clock);
the tests call those directly, and through the job functions.

Every job is safe to run twice or late (a misfire, a restart, a new leader catching up):
- the harvest fetches the days since the last successful harvest (at most `MAX_CATCH_UP_DAYS`) plus
  the `OVERLAP_DAYS` before yesterday again, because arXiv lists a paper only once it is announced,
  up to three days (a weekend) after its submission date; storing is an idempotent upsert;
- the digest job builds the previous month's digest unless it is published, and publishes it
  through the exactly-once delivery engine (publishing twice posts nothing new), or, with
  `approval = true`, sends the draft to the approval channel once and waits for an admin. It does
  so for every audience (`run_digests`), one after the other; the month's papers are read once and
  shared by the audiences' rankings. One audience failing does not stop the others. A channel
  leased by another process ("busy": a live publish, or a run that crashed mid-thread) is resumed
  once that lease is free, so a restart after a crash finishes the thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audience_models import ModelReport, refit_all
from bot.audiences import DEFAULT_AUDIENCE, AudienceService, audience_id
from bot.db.models import Delivery, Digest, HarvestRun, Subscription, utcnow
from bot.db.papers import UpsertCounts
from bot.delivery import DeliveryReport
from bot.digest.service import DigestService, MonthPapers
from bot.digest.views import DigestView
from bot.errors import TrendsError
from bot.harvest.harvester import Harvester, HarvestResult, normalise_categories
from bot.harvest.source import ArxivSource, Window
from bot.months import Month
from bot.publish import PublishService
from bot.signals.service import refresh as refresh_signals
from bot.signals.types import RefreshReport, SourceReport

from .approval import ApprovalTarget
from .context import AppContext, ShutdownRequested, current

log = logging.getLogger(__name__)

HARVEST_JOB = "daily-harvest"
DIGEST_JOB = "monthly-digest"
HARVEST_FUNC = "bot.scheduler.jobs:daily_harvest"
DIGEST_FUNC = "bot.scheduler.jobs:monthly_digest"
MAX_CATCH_UP_DAYS = 31
OVERLAP_DAYS = 3


# ------------------------------------------------------------------------------------------ harvest


def last_harvested_day(session: Session, categories: tuple[str, ...]) -> dt.date | None:
    """The last day of the newest successful harvest of exactly these categories."""
    rows = session.execute(
        select(HarvestRun.window_end, HarvestRun.categories)
        .where(HarvestRun.status == "done")
        .order_by(HarvestRun.window_end.desc(), HarvestRun.id.desc())
        .limit(200)
    )
    return next((end for end, cats in rows if tuple(sorted(cats)) == categories), None)


def days_to_harvest(last_day: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The window for a harvest on `today`: from after `last_day` (or the overlap) to yesterday."""
    yesterday = today - dt.timedelta(days=1)
    overlap_start = yesterday - dt.timedelta(days=OVERLAP_DAYS - 1)
    earliest = yesterday - dt.timedelta(days=MAX_CATCH_UP_DAYS - 1)
    first = overlap_start if last_day is None else min(last_day + dt.timedelta(days=1), overlap_start)
    return max(first, earliest), yesterday


class _StopAware:
    """Harvest/refresh progress that ends the work at its next step once the process is stopping."""

    def __init__(self, context: AppContext) -> None:
        self._context = context

    def window_started(self, window: Window, total: int) -> None:
        self._context.check_stopping()

    def window_split(self, window: Window, total: int) -> None:
        self._context.check_stopping()

    def page_stored(self, window: Window, done: int, total: int, counts: UpsertCounts) -> None:
        self._context.check_stopping()

    def started(self, source: str, total: int) -> None:
        self._context.check_stopping()

    def advanced(self, source: str, count: int) -> None:
        self._context.check_stopping()

    def finished(self, report: SourceReport) -> None:
        pass


def run_harvest(context: AppContext) -> HarvestResult:
    """Harvest the days due on the context's "today" (UTC); blocking, run it in a worker thread."""
    container = context.container
    settings = container.settings
    categories = normalise_categories(settings.categories)
    today = context.clock().astimezone(dt.UTC).date()
    with container.uow() as uow:
        first, last = days_to_harvest(last_harvested_day(uow.session, categories), today)
    log.info("harvest started", extra={"window_start": first.isoformat(), "window_end": last.isoformat()})
    harvester = Harvester(container.uow, ArxivSource.from_settings(settings), trigger="scheduler")
    result = harvester.harvest(first, last, categories, _StopAware(context))
    log.info(
        "harvest done",
        extra={
            "run_id": result.run_id,
            "window_start": first.isoformat(),
            "window_end": last.isoformat(),
            "fetched": result.fetched,
            "inserted": result.counts.inserted,
            "updated": result.counts.updated,
            "unchanged": result.counts.unchanged,
            "pages": result.pages,
            "duration_s": round(result.seconds, 3),
        },
    )
    return result


def run_signals(context: AppContext) -> RefreshReport:
    """Refresh momentum signals for the current and previous month; failures are in the report."""
    started = time.monotonic()
    report = refresh_signals(context.container, progress=_StopAware(context))
    for source in report.sources:
        log.info(
            "signals source done",
            extra={
                "source": source.source,
                "requested": source.requested,
                "updated": source.updated,
                "failed": source.failed,
                "gave_up": source.gave_up,
                "duration_s": round(source.duration_seconds, 3),
            },
        )
    log.info(
        "signals refresh done",
        extra={
            "months": ",".join(report.months),
            "papers": report.papers,
            "sources": len(report.sources),
            "duration_s": round(time.monotonic() - started, 3),
        },
    )
    return report


# ------------------------------------------------------------------------------------------- digest


def digest_month(now: dt.datetime, timezone: str) -> Month:
    """The month a digest run at `now` is about: the one that just ended where the team lives."""
    return Month.current(now, timezone).previous()


@dataclass(frozen=True, slots=True)
class DigestState:
    status: str | None  # None (no digest) | draft | published
    unfinished_deliveries: int
    approval_requested: bool = False


def digest_state(session: Session, month: Month, audience: str | None = None) -> DigestState:
    """Where the audience's digest of `month` stands (`audience=None`: `default`)."""
    digest = session.scalars(
        select(Digest).where(Digest.audience_id == audience_id(session, audience), Digest.month == str(month))
    ).one_or_none()
    if digest is None:
        return DigestState(None, 0)
    unfinished = session.scalars(
        select(Delivery.id)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Delivery.digest_id == digest.id, Delivery.status != "done", Subscription.active.is_(True))
    ).all()
    return DigestState(digest.status, len(unfinished), digest.approval_requested_at is not None)


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    month: str
    action: str  # published | resumed | awaiting-approval | approval-requested | built | failed
    report: DeliveryReport | None = None
    audience: str = DEFAULT_AUDIENCE


def _log_report(report: DeliveryReport, seconds: float) -> None:
    for outcome in report.outcomes:
        log.info(
            "digest delivery",
            extra={
                "month": report.month,
                "platform": outcome.channel.platform,
                "channel": outcome.channel.channel_id,
                "status": outcome.status,
                "posted": outcome.posted,
                "adopted": outcome.adopted,
                "error": outcome.error,
            },
        )
    log.info(
        "digest posted",
        extra={
            "month": report.month,
            "channels": len(report.outcomes),
            "posted": sum(o.posted for o in report.outcomes),
            "failed": sum(o.status == "failed" for o in report.outcomes),
            "duration_s": round(seconds, 3),
        },
    )


async def run_digests(context: AppContext, month: Month | None = None) -> list[DigestOutcome]:
    """`run_digest` for every audience, sharing the month's papers between their rankings."""
    container = context.container
    month = month or digest_month(context.clock(), container.settings.timezone)
    names = await asyncio.to_thread(AudienceService(container.uow, container.settings).names)
    digests = DigestService(container.uow, container.settings, clock=context.clock)
    shared: list[MonthPapers] = []

    def papers() -> MonthPapers:
        if not shared:  # read on the first build: a month already published by all reads nothing
            shared.append(digests.load_month(month))
        return shared[0]

    outcomes = []
    for name in names:
        try:
            outcomes.append(await run_digest(context, month, audience=name, papers=papers))
        except TrendsError as exc:
            log.warning("digest job could not finish", extra={"audience": name, "error": str(exc)})
            outcomes.append(DigestOutcome(str(month), "failed", audience=name))
    return outcomes


async def run_digest(
    context: AppContext,
    month: Month | None = None,
    *,
    audience: str = DEFAULT_AUDIENCE,
    papers: Callable[[], MonthPapers] | None = None,
) -> DigestOutcome:
    """Build the audience's digest of the month (default: the previous month) and publish it to the
    audience's channels, or ask for approval. `papers` shares the month's papers between audiences."""
    container = context.container
    settings = container.settings
    month = month or digest_month(context.clock(), settings.timezone)
    digests = DigestService(container.uow, settings, clock=context.clock)
    publisher = PublishService(digests, context.engine())

    def read_state() -> DigestState:
        with container.uow() as uow:
            return digest_state(uow.session, month, audience)

    def build() -> DigestView:
        return digests.build(month, audience=audience, shared=papers() if papers is not None else None)

    state = await asyncio.to_thread(read_state)
    started = time.monotonic()
    where = {"month": str(month), "audience": audience}
    if settings.approval:
        if state.status is None:
            view = await asyncio.to_thread(build)
            log.info("digest built", extra={**where, "picks": len(view.picks)})
            return await _request_approval(context, str(month), view)
        if state.status != "published":
            if not state.approval_requested:  # the earlier request never reached the channel: resend
                view = await asyncio.to_thread(lambda: digests.get(month, audience=audience))
                return await _request_approval(context, str(month), view)
            log.info("digest awaiting approval", extra=where)
            return DigestOutcome(str(month), "awaiting-approval", audience=audience)
    elif state.status != "published":
        view = await asyncio.to_thread(build)
        log.info("digest built", extra={**where, "picks": len(view.picks)})
        if not context.posters:
            log.warning("no chat platform configured: the digest is built but not published", extra=where)
            return DigestOutcome(str(month), "built", audience=audience)
    if not context.posters:
        return DigestOutcome(str(month), "built", audience=audience)
    # Publishing now targets every subscribed channel; a retry of an earlier publication only the
    # channels that publication targeted (its delivery rows), never channels subscribed since.
    report = await publisher.publish(
        month, context.posters, include_new_subscribers=state.status != "published", audience=audience
    )
    _log_report(report, time.monotonic() - started)
    report = await _resume_busy(context, publisher, month, report, audience)
    action = "published" if state.status != "published" else "resumed"
    return DigestOutcome(str(month), action if report.ok else "failed", report, audience=audience)


async def _resume_busy(
    context: AppContext, publisher: PublishService, month: Month, report: DeliveryReport, audience: str | None
) -> DeliveryReport:
    """Resume the channels another process was posting ("busy") once it is done or its lease ran out.

    The holder is alive (a replica's `/trends publish`: it finishes, and the resume finds the channel
    done) or it crashed mid-thread, and then nothing else would finish that thread until the next
    restart or the next month: its lease lapses within `delivery_lease_seconds` and we take over.
    """
    poll = max(0.5, context.engine().lease_seconds / 4)
    while any(o.status == "busy" for o in report.outcomes):
        log.info("digest delivery busy elsewhere: resuming when it is free", extra={"month": str(month)})
        if not await _pause(context, poll):
            break
        started = time.monotonic()
        report = await publisher.publish(
            month, context.posters, include_new_subscribers=False, audience=audience
        )
        _log_report(report, time.monotonic() - started)
    return report


async def _pause(context: AppContext, seconds: float) -> bool:
    """Sleep `seconds`; False as soon as the process is stopping."""
    deadline = time.monotonic() + seconds
    while not context.stopping.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        await asyncio.sleep(min(0.25, left))
    return False


async def _request_approval(context: AppContext, month: str, view: DigestView) -> DigestOutcome:
    channel = context.container.settings.approval_channel
    assert channel is not None  # settings refuse approval without a channel
    target = ApprovalTarget.parse(channel)
    notifier = context.notifiers.get(target.platform)
    where = {"month": month, "audience": view.audience, "approval_channel": str(target)}
    if notifier is None:
        log.warning(
            "approval needed but the approval channel's platform is not running; "
            "an admin can review with /trends preview and publish with /trends publish",
            extra=where,
        )
        return DigestOutcome(month, "awaiting-approval", audience=view.audience)
    await notifier.request_approval(target, view)

    def remember() -> None:
        with context.container.uow() as uow:
            digest = uow.session.scalars(
                select(Digest).where(
                    Digest.audience_id == audience_id(uow.session, view.audience), Digest.month == month
                )
            ).one()
            digest.approval_requested_at = utcnow()
            uow.commit()

    await asyncio.to_thread(remember)
    log.info("digest approval requested", extra=where)
    return DigestOutcome(month, "approval-requested", audience=view.audience)


# -------------------------------------------------------------------------- APScheduler entry points


def run_audience_models(context: AppContext) -> list[ModelReport]:
    """Refit every audience's vote model (`bot.audience_models`): the daily job's last step, so a
    day's 👍/👎 count in the next ranking. Blocking: run it in a worker thread."""
    context.check_stopping()
    return refit_all(context.container.uow, clock=context.clock)


async def _leading(context: AppContext, job: str) -> bool:
    if context.is_leader():
        return True
    log.warning("job skipped: this replica no longer holds the scheduler lease", extra={"job": job})
    return False


async def daily_harvest() -> None:
    """The daily job: harvest the days due, then refresh momentum signals."""
    context = current()
    if not await _leading(context, HARVEST_JOB):
        return
    with context.tracking(HARVEST_JOB) as free:
        if not free:
            log.info("harvest already running: this run is skipped")
            return
        try:
            await asyncio.to_thread(run_harvest, context)
        except ShutdownRequested:
            log.info("harvest stopped for shutdown; it resumes from its last page next time")
            return
        except TrendsError as exc:
            log.error("harvest failed", extra={"error": str(exc)})
        try:
            await asyncio.to_thread(run_signals, context)
        except ShutdownRequested:
            log.info("signals refresh stopped for shutdown")
            return
        try:
            await asyncio.to_thread(run_audience_models, context)
        except ShutdownRequested:
            log.info("audience models refit stopped for shutdown")
        except TrendsError as exc:
            log.error("audience models refit failed", extra={"error": str(exc)})


async def monthly_digest() -> None:
    """The monthly job: every audience's digest of the previous month, published or sent for approval."""
    context = current()
    if not await _leading(context, DIGEST_JOB):
        return
    with context.tracking(DIGEST_JOB) as free:
        if not free:
            log.info("digest job already running: this run is skipped")
            return
        try:
            await run_digests(context)
        except TrendsError as exc:
            log.warning("digest job could not finish", extra={"error": str(exc)})
