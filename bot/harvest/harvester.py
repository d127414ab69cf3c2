"""The harvest use case: store every paper submitted in a date window, resumably and idempotently.

`Harvester.harvest(from_date, to_date, categories)` walks the window's result pages oldest first.
Each page is one unit of work: its papers are upserted and the run's checkpoint (`HarvestRun.cursor`,
the newest `submitted_at` fully stored) is committed together, so a harvest killed half-way loses at
most the page in flight. Running the same window and categories again resumes the unfinished run from
its cursor; the minute at the cursor is fetched again, which is harmless because upserts are
idempotent. A window holding more than `split_threshold` results (arXiv serves at most 30,000 per
query and grows unreliable on deep pages) is split in two halves by time, recursively.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select

from bot.db.models import HarvestRun
from bot.db.papers import UpsertCounts, bulk_upsert
from bot.db.uow import UnitOfWork
from bot.errors import TrendsError, ValidationError
from bot.harvest.source import PaperSource, Window, build_query
from bot.paper_records import PaperRecord

log = logging.getLogger(__name__)

DEFAULT_SPLIT_THRESHOLD = 10_000
UNFINISHED = ("running", "failed")
# Refuse ranges so long they are surely a typo (a century of arXiv is ~100 years of requests).
MAX_WINDOW_DAYS = 3660


class HarvestProgress(Protocol):
    """What a harvest reports while it runs (the CLI draws a progress bar or logs lines)."""

    def window_started(self, window: Window, total: int) -> None: ...

    def window_split(self, window: Window, total: int) -> None: ...

    def page_stored(self, window: Window, done: int, total: int, counts: UpsertCounts) -> None: ...


class SilentProgress:
    def window_started(self, window: Window, total: int) -> None:
        pass

    def window_split(self, window: Window, total: int) -> None:
        pass

    def page_stored(self, window: Window, done: int, total: int, counts: UpsertCounts) -> None:
        pass


@dataclass(frozen=True, slots=True)
class HarvestResult:
    run_id: int
    window: Window
    categories: tuple[str, ...]
    fetched: int
    counts: UpsertCounts  # of this invocation only
    pages: int
    splits: int
    resumed_from: dt.datetime | None
    seconds: float


@dataclass
class _Tally:
    fetched: int = 0
    pages: int = 0
    splits: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)


def normalise_categories(categories: Sequence[str]) -> tuple[str, ...]:
    """Deduplicated and sorted: the same set always names the same run."""
    cleaned = tuple(sorted({c.strip() for c in categories if c.strip()}))
    if not cleaned:
        raise ValidationError("Name at least one arXiv category, e.g. cs.LG.")
    return cleaned


class Harvester:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        source: PaperSource,
        *,
        split_threshold: int = DEFAULT_SPLIT_THRESHOLD,
        trigger: str = "cli",
    ) -> None:
        if split_threshold < 1:
            raise ValueError("split_threshold must be positive")
        self._uow = uow_factory
        self._source = source
        self.split_threshold = split_threshold
        self.trigger = trigger

    def harvest(
        self,
        from_date: dt.date,
        to_date: dt.date,
        categories: Sequence[str],
        progress: HarvestProgress | None = None,
    ) -> HarvestResult:
        """Harvest papers submitted from `from_date` through `to_date` (UTC days, both included)."""
        if from_date > to_date:
            raise ValidationError(f"The harvest window starts ({from_date}) after it ends ({to_date}).")
        if (to_date - from_date).days > MAX_WINDOW_DAYS:
            raise ValidationError("The harvest window is longer than ten years; harvest it in parts.")
        cats = normalise_categories(categories)
        full = Window.for_days(from_date, to_date)
        build_query(full, cats)  # validates the categories before anything is written
        started = time.monotonic()
        run_id, cursor = self._open_run(from_date, to_date, cats)
        window = full.starting_at(cursor) if cursor is not None else full
        if cursor is not None:
            log.info("Resuming harvest run %d of %s from %s", run_id, full, window.first)
        tally = _Tally()
        try:
            self._harvest_window(run_id, window, cats, tally, progress or SilentProgress())
        except BaseException as exc:
            self._close_run(run_id, "failed", _error_text(exc))
            raise
        self._close_run(run_id, "done", None)
        return HarvestResult(
            run_id=run_id,
            window=full,
            categories=cats,
            fetched=tally.fetched,
            counts=tally.counts,
            pages=tally.pages,
            splits=tally.splits,
            resumed_from=cursor,
            seconds=time.monotonic() - started,
        )

    def _harvest_window(
        self,
        run_id: int,
        window: Window,
        categories: tuple[str, ...],
        tally: _Tally,
        progress: HarvestProgress,
    ) -> None:
        page = self._source.fetch_page(window, categories, 0)
        if page.total > self.split_threshold and window.splittable:
            # Discarding this first page costs one request; it keeps every stored page in time order,
            # which is what makes a single cursor enough to resume.
            tally.splits += 1
            progress.window_split(window, page.total)
            for half in window.halves():
                self._harvest_window(run_id, half, categories, tally, progress)
            return
        progress.window_started(window, page.total)
        while True:
            if page.records:
                tally.counts += self._store_page(run_id, page.records)
            tally.fetched += len(page.records)
            tally.pages += 1
            # Unreadable entries count as used up: a page of nothing but those is not the end.
            done = page.start + page.entries
            progress.page_stored(window, min(done, page.total), page.total, tally.counts)
            if not page.entries or done >= page.total:
                return
            page = self._source.fetch_page(window, categories, done)

    def _store_page(self, run_id: int, records: list[PaperRecord]) -> UpsertCounts:
        """One unit of work: the page's papers and the checkpoint that says they are stored."""
        with self._uow() as uow:
            counts = bulk_upsert(uow.session, records)
            run = uow.session.get(HarvestRun, run_id)
            if run is None:  # pragma: no cover - the row was created by this harvest
                raise RuntimeError(f"harvest run {run_id} disappeared")
            newest = max(record.submitted_at for record in records)
            run.cursor = newest if run.cursor is None else max(run.cursor, newest)
            run.fetched += len(records)
            run.inserted += counts.inserted
            run.updated += counts.updated
            uow.commit()
        return counts

    def _open_run(
        self, from_date: dt.date, to_date: dt.date, categories: tuple[str, ...]
    ) -> tuple[int, dt.datetime | None]:
        """The unfinished run of this window and categories to resume, or a new run."""
        with self._uow() as uow:
            candidates = uow.session.scalars(
                select(HarvestRun)
                .where(
                    HarvestRun.window_start == from_date,
                    HarvestRun.window_end == to_date,
                    HarvestRun.status.in_(UNFINISHED),
                )
                .order_by(HarvestRun.id.desc())
            ).all()
            run = next((r for r in candidates if tuple(r.categories) == categories), None)
            if run is None:
                run = HarvestRun(
                    window_start=from_date,
                    window_end=to_date,
                    categories=list(categories),
                    status="running",
                    trigger=self.trigger,
                    fetched=0,
                    inserted=0,
                    updated=0,
                )
                uow.session.add(run)
            else:
                run.status = "running"
                run.error = None
                run.finished_at = None
            uow.commit()
            return run.id, run.cursor

    def _close_run(self, run_id: int, status: str, error: str | None) -> None:
        try:
            with self._uow() as uow:
                run = uow.session.get(HarvestRun, run_id)
                if run is not None:
                    run.status = status
                    run.error = error
                    run.finished_at = dt.datetime.now(dt.UTC)
                    uow.commit()
        except Exception:  # the original failure matters more than recording it
            log.exception("Could not record the end of harvest run %d", run_id)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, TrendsError):
        return str(exc)[:2000]
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {str(exc)[:500]}"


def store_records(uow_factory: Callable[[], UnitOfWork], records: Sequence[PaperRecord]) -> UpsertCounts:
    """Store ready-made records (an import, a test's fixtures) in one unit of work."""
    with uow_factory() as uow:
        counts = bulk_upsert(uow.session, records)
        uow.commit()
    return counts
