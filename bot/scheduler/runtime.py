"""`SchedulerRuntime`: the lease, the APScheduler instance and the jobs of one `trends run` process.

Every replica runs a `LeaderElector`. The one that holds the "scheduler" lease starts an
`AsyncIOScheduler` inside the running loop, with a persistent `SQLAlchemyJobStore` on the bot's
database (table `apscheduler_jobs`, on an engine of its own), registers the two jobs under stable ids
(`replace_existing=True`, `coalesce=True`, `misfire_grace_time`, one instance at a time) and catches
up on a run it missed while no replica was leading. A replica that loses the lease, or the process
when it stops, shuts its scheduler down: no new job starts, running jobs get `shutdown_grace`
seconds to finish (worker-thread work stops at its next page, resumably), then what is left is
cancelled, which is safe because delivery records its intent before every post.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.audiences import DEFAULT_AUDIENCE
from bot.bootstrap import Container
from bot.db.engine import make_engine
from bot.db.models import Audience, HarvestRun, utcnow
from bot.delivery import DeliveryEngine, ThreadPoster
from bot.harvest.harvester import normalise_categories
from bot.scheduler import JOBS_TABLE
from bot.settings import Settings

from . import context as app_context
from .approval import ApprovalNotifier
from .cron import parse_cron, previous_fire_time
from .jobs import DIGEST_FUNC, DIGEST_JOB, HARVEST_FUNC, HARVEST_JOB, digest_month, digest_state
from .leases import LeaderElector, LeaseStore, make_holder_id

log = logging.getLogger(__name__)

CATCH_UP_SUFFIX = "-catch-up"
DEFAULT_SHUTDOWN_GRACE_SECONDS = 8.0  # Docker sends SIGKILL 10 s after SIGTERM


def make_scheduler(settings: Settings, jobstore_engine: Engine) -> AsyncIOScheduler:
    """The scheduler: persistent jobs, coalesced misfires, one instance of a job at a time."""
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=jobstore_engine, tablename=JOBS_TABLE)},
        executors={"default": AsyncIOExecutor()},
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": settings.misfire_grace_seconds,
            "max_instances": 1,
        },
        timezone=dt.UTC,
    )


def register_jobs(scheduler: AsyncIOScheduler, settings: Settings) -> None:
    scheduler.add_job(
        HARVEST_FUNC,
        trigger=parse_cron(settings.harvest_cron, "UTC"),
        id=HARVEST_JOB,
        name="daily arXiv harvest, then signals",
        replace_existing=True,
    )
    scheduler.add_job(
        DIGEST_FUNC,
        trigger=parse_cron(settings.digest_cron, settings.timezone),
        id=DIGEST_JOB,
        name="monthly digest",
        replace_existing=True,
    )


def due_catch_ups(session: Session, settings: Settings, now: dt.datetime) -> list[str]:
    """The jobs whose latest scheduled run has not happened (all replicas were down at the time).

    Registering a job with `replace_existing=True` computes its next run from now, so APScheduler
    alone would skip a run missed while nobody led.
    """
    due = []
    harvest_fire = previous_fire_time(parse_cron(settings.harvest_cron, "UTC"), now)
    if harvest_fire is not None:
        categories = normalise_categories(settings.categories)
        finished = [
            when
            for when, cats in session.execute(
                select(HarvestRun.finished_at, HarvestRun.categories)
                .where(HarvestRun.status == "done", HarvestRun.finished_at.is_not(None))
                .order_by(HarvestRun.finished_at.desc())
                .limit(50)
            )
            if when is not None and tuple(sorted(cats)) == categories
        ]
        if not finished or finished[0] < harvest_fire:
            due.append(HARVEST_JOB)
    digest_fire = previous_fire_time(parse_cron(settings.digest_cron, settings.timezone), now)
    if digest_fire is not None:
        month = digest_month(digest_fire, settings.timezone)
        names = session.scalars(select(Audience.name).order_by(Audience.name))
        for audience in dict.fromkeys([DEFAULT_AUDIENCE, *names]):
            state = digest_state(session, month, audience)
            published = state.status == "published"
            if (published and state.unfinished_deliveries) or (  # a delivery cut short: resume it
                not published and (state.status is None or not settings.approval)
            ):
                due.append(DIGEST_JOB)  # the job runs every audience
                break
    return due


class SchedulerRuntime:
    """Runs until `stop` is set: elect, schedule while leading, shut down cleanly."""

    def __init__(
        self,
        container: Container,
        *,
        posters: Mapping[str, ThreadPoster] | None = None,
        notifiers: Mapping[str, ApprovalNotifier] | None = None,
        holder: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE_SECONDS,
        delivery_engine: DeliveryEngine | None = None,
    ) -> None:
        self.container = container
        self.settings = container.settings
        self.holder = holder or make_holder_id()
        self.shutdown_grace = shutdown_grace
        self.context = app_context.AppContext(
            container,
            posters=posters if posters is not None else {},
            notifiers=notifiers or {},
            clock=clock,
            delivery_engine=delivery_engine,
        )
        self.elector = LeaderElector(
            LeaseStore(container.session_factory, clock=clock),
            holder=self.holder,
            lease_seconds=self.settings.leader_lease_seconds,
            on_elected=self._start_scheduler,
            on_deposed=self._stop_scheduler,
            clock=clock,
        )
        self.context.is_leader = self.elector.is_leader
        self.scheduler: AsyncIOScheduler | None = None
        self._jobstore_engine: Engine | None = None

    async def run(self, stop: asyncio.Event) -> None:
        app_context.install(self.context)
        try:
            await self.elector.run(stop)
        finally:
            await self._stop_scheduler()
            await self.elector.resign()
            app_context.uninstall(self.context)
            if self._jobstore_engine is not None:
                self._jobstore_engine.dispose()

    # -- leading ------------------------------------------------------------------------------------

    async def _start_scheduler(self) -> None:
        if self.scheduler is not None:
            return
        if self._jobstore_engine is None:
            # An engine of its own: APScheduler's store disposes its engine when the scheduler stops.
            self._jobstore_engine = make_engine(self.settings.database_url)
        self.context.stopping = threading.Event()
        scheduler = make_scheduler(self.settings, self._jobstore_engine)
        scheduler.add_listener(
            self._on_job_event,
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
        )
        register_jobs(scheduler, self.settings)  # pending until start(), which writes them to the store
        scheduler.start()
        self.scheduler = scheduler
        for job in scheduler.get_jobs():
            log.info(
                "job scheduled",
                extra={"job": job.id, "next_run": job.next_run_time.isoformat() if job.next_run_time else ""},
            )
        await self._catch_up(scheduler)

    async def _catch_up(self, scheduler: AsyncIOScheduler) -> None:
        def find() -> list[str]:
            with self.container.uow() as uow:
                return due_catch_ups(uow.session, self.settings, self.context.clock())

        try:
            due = await asyncio.to_thread(find)
        except Exception:
            log.exception("could not check for missed runs")
            return
        functions = {HARVEST_JOB: HARVEST_FUNC, DIGEST_JOB: DIGEST_FUNC}
        for job_id in due:
            log.info("catching up a missed run", extra={"job": job_id})
            scheduler.add_job(
                functions[job_id],
                trigger="date",
                run_date=dt.datetime.now(dt.UTC),
                id=job_id + CATCH_UP_SUFFIX,
                name=f"catch-up of {job_id}",
                replace_existing=True,
            )

    def _on_job_event(self, event: JobEvent) -> None:
        scheduled = getattr(event, "scheduled_run_time", None)
        extra: dict[str, Any] = {
            "job": event.job_id,
            "scheduled": scheduled.isoformat() if scheduled else None,
            "holder": self.holder,
        }
        if event.code == EVENT_JOB_EXECUTED:
            log.info("job run", extra=extra)
        elif event.code == EVENT_JOB_ERROR:
            exception = getattr(event, "exception", None)
            log.error(
                "job failed",
                extra=extra,
                exc_info=(type(exception), exception, exception.__traceback__) if exception else None,
            )
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job missed its run time", extra=extra)
        else:
            log.warning("job still running: this run is skipped", extra=extra)

    # -- stopping -----------------------------------------------------------------------------------

    async def _stop_scheduler(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is None:
            return
        scheduler.pause()  # no new job starts from here on
        self.context.stopping.set()
        running = [task for task in self.context.running if not task.done()]
        if running:
            log.info("waiting for running jobs", extra={"jobs": len(running), "grace_s": self.shutdown_grace})
            _done, pending = await asyncio.wait(running, timeout=self.shutdown_grace)
            if pending:
                log.warning(
                    "cancelling jobs still running after the grace period (they resume on the next run)",
                    extra={"jobs": len(pending)},
                )
        scheduler.shutdown(wait=False)  # cancels coroutine jobs still running
        log.info("scheduler stopped", extra={"holder": self.holder})
