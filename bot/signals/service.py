"""Refreshing momentum signals for the papers of some months: the use case behind
`trends signals refresh` and the scheduled signals job.

`refresh(container)` asks each enabled source about the papers submitted in the current and the
previous month (or the months given) and stores what changed. Sources run one after another, each
paced by its own rate limiter: Semantic Scholar in batches of 500; then Hugging Face, one daily
listing per day of the months (plus `LISTING_GRACE_DAYS` after each, since papers are featured a few
days after they appear on arXiv; never a day in the future), and per-paper requests only for at most
`huggingface_recheck_limit` papers the listings missed but that Hugging Face showed before with at
least `huggingface_recheck_min_upvotes` upvotes (most upvoted first); then GitHub for the
repositories whose stars Hugging Face did not show. A refresh of two months costs Hugging Face about
70 listing requests plus at most `huggingface_recheck_limit` per-paper ones, not one per paper. A
listing reports upvotes as of the request (as far as we can tell), so papers it features need no
recheck; the recheck is for papers featured on a day outside the windows read (or long after their
submission).

Failure is normal here. A batch or paper that fails is counted and the run goes on; a source that
fails `signals_max_consecutive_failures` requests in a row, refuses our credentials, or has spent its
rate limit is given up for the rest of the run. None of this raises out of `refresh`: it is all in the
returned `RefreshReport`. Readings are committed every few hundred papers, so an interrupted run
keeps what it fetched (and a long run never holds a write lock for long).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import partial
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select

from bot.bootstrap import Container
from bot.db.models import Paper
from bot.db.uow import UnitOfWork
from bot.errors import ValidationError
from bot.signals.clients import SignalSources, build_sources
from bot.signals.github import GitHubSource, parse_github_repo
from bot.signals.http import Clock, JsonHttp, RequestFailed, SourceUnavailable, SystemClock
from bot.signals.huggingface import HfPaper, HuggingFaceSource
from bot.signals.semantic_scholar import SemanticScholarSource
from bot.signals.store import latest_values, prune_readings, record_readings
from bot.signals.types import GITHUB, HUGGINGFACE, PaperRef, Reading, RefreshReport, SourceReport

log = logging.getLogger(__name__)

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
DEFAULT_FLUSH_EVERY = 200
# Hugging Face features a paper some days after arXiv lists it: read listings this long past a month.
LISTING_GRACE_DAYS = 7
DEFAULT_RECHECK_LIMIT = 100
DEFAULT_RECHECK_MIN_UPVOTES = 10.0


class RefreshProgress(Protocol):
    """Told how a refresh advances (the CLI draws a progress bar or logs lines)."""

    def started(self, source: str, total: int) -> None: ...

    def advanced(self, source: str, count: int) -> None: ...

    def finished(self, report: SourceReport) -> None: ...


class SilentProgress:
    def started(self, source: str, total: int) -> None:
        pass

    def advanced(self, source: str, count: int) -> None:
        pass

    def finished(self, report: SourceReport) -> None:
        pass


def month_window(month: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of a "YYYY-MM" month; `ValidationError` for anything else."""
    match = _MONTH.fullmatch(month.strip())
    if not match:
        raise ValidationError(f"{month[:20]!r} is not a month; use YYYY-MM, e.g. 2026-10.")
    year, number = int(match.group(1)), int(match.group(2))
    start = dt.datetime(year, number, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def default_months(now: dt.datetime, timezone: str = "UTC") -> list[str]:
    """The current and the previous month where the team lives: citations keep coming for both."""
    local = now.astimezone(ZoneInfo(timezone))
    previous = (local.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    return [local.strftime("%Y-%m"), previous]


def _chunks(items: Sequence[PaperRef], size: int) -> Iterator[Sequence[PaperRef]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def listing_days(windows: Iterable[tuple[dt.datetime, dt.datetime]], today: dt.date) -> list[dt.date]:
    """The days whose Hugging Face listing can feature papers of `windows`: each month's days plus
    `LISTING_GRACE_DAYS` after it, none after `today`, each once, oldest first."""
    days: set[dt.date] = set()
    for start, end in windows:
        day, last = start.date(), min(end.date() + dt.timedelta(days=LISTING_GRACE_DAYS - 1), today)
        while day <= last:
            days.add(day)
            day += dt.timedelta(days=1)
    return sorted(days)


def _could_be_listed_on(paper: PaperRef, day: dt.date) -> bool:
    submitted = paper.submitted_at.astimezone(dt.UTC).date()
    return submitted <= day <= submitted + dt.timedelta(days=LISTING_GRACE_DAYS)


class _Breaker:
    """Gives a source up after too many failures in a row (a source that is down costs little)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_a_row = 0
        self.reason: str | None = None

    @property
    def open(self) -> bool:
        return self.reason is not None

    def success(self) -> None:
        self.in_a_row = 0

    def failure(self, report: SourceReport, reason: str) -> None:
        report.errors[reason] += 1
        self.in_a_row += 1
        if self.in_a_row >= self.limit and self.reason is None:
            self.reason = f"{self.in_a_row} failures in a row (last: {reason})"
            report.gave_up = self.reason

    def give_up(self, report: SourceReport, reason: str) -> None:
        report.errors[reason] += 1
        self.reason = reason
        report.gave_up = reason


class SignalRefresher:
    """Runs the sources over a set of papers and stores what they report."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        sources: SignalSources,
        *,
        clock: Clock | None = None,
        max_consecutive_failures: int = 5,
        flush_every: int = DEFAULT_FLUSH_EVERY,
        progress: RefreshProgress | None = None,
        recheck_limit: int = DEFAULT_RECHECK_LIMIT,
        recheck_min_upvotes: float = DEFAULT_RECHECK_MIN_UPVOTES,
    ) -> None:
        self._uow_factory = uow_factory
        self._sources = sources
        self._clock = clock or SystemClock()
        self._max_failures = max_consecutive_failures
        self._flush_every = flush_every
        self._progress = progress or SilentProgress()
        self._recheck_limit = recheck_limit
        self._recheck_min_upvotes = recheck_min_upvotes

    def refresh(self, months: Sequence[str]) -> RefreshReport:
        windows = [month_window(m) for m in months]
        report = RefreshReport(months=list(months))
        papers = self._load_papers(windows)
        report.papers = len(papers)
        # Filled by Hugging Face, used by GitHub: repos HF links and papers whose stars HF showed.
        hf_repos: dict[int, str] = {}
        hf_starred: set[int] = set()
        steps: list[tuple[str, JsonHttp, Callable[[SourceReport], None]]] = []
        if (s2 := self._sources.semantic_scholar) is not None:
            steps.append((s2.name, s2.http, partial(self._run_semantic_scholar, s2, papers)))
        if (hf := self._sources.huggingface) is not None:
            days = listing_days(windows, self._clock.now().astimezone(dt.UTC).date())
            run_hf = partial(
                self._run_huggingface, hf, papers, days, hf_repos=hf_repos, hf_starred=hf_starred
            )
            steps.append((hf.name, hf.http, run_hf))
        if (gh := self._sources.github) is not None:
            run_gh = partial(self._run_github, gh, papers, hf_repos=hf_repos, hf_starred=hf_starred)
            steps.append((gh.name, gh.http, run_gh))
        for name, http, step in steps:
            source_report = SourceReport(source=name)
            started = self._clock.monotonic()
            calls_before = http.calls
            try:
                step(source_report)
            except Exception as exc:  # one source's surprise must not cost the others their run
                log.exception("signals: %s stopped on an unexpected error", name)
                source_report.gave_up = f"unexpected error ({type(exc).__name__})"
                source_report.errors[source_report.gave_up] += 1
            source_report.duration_seconds = self._clock.monotonic() - started
            source_report.calls = http.calls - calls_before
            report.sources.append(source_report)
            self._progress.finished(source_report)
        return report

    # -- loading and storing ------------------------------------------------------------------

    def _load_papers(self, windows: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[PaperRef]:
        if not windows:
            return []
        in_months = or_(
            *(and_(Paper.submitted_at >= start, Paper.submitted_at < end) for start, end in windows)
        )
        with self._uow_factory() as uow:
            rows = uow.session.execute(
                select(Paper.id, Paper.arxiv_id, Paper.submitted_at, Paper.code_url, Paper.journal_ref)
                .where(in_months)
                .order_by(Paper.submitted_at, Paper.id)
            ).all()
        return [
            PaperRef(paper_id, arxiv_id, submitted_at, code_url, journal_ref)
            for paper_id, arxiv_id, submitted_at, code_url, journal_ref in rows
        ]

    def _store(self, found: dict[int, list[Reading]], report: SourceReport) -> None:
        """Write one chunk of readings in its own transaction and count updated/unchanged papers."""
        if not found:
            return
        readings = [reading for paper_readings in found.values() for reading in paper_readings]
        with self._uow_factory() as uow:
            written = record_readings(uow.session, readings, self._clock.now())
            uow.commit()
        report.updated += len(found.keys() & written)
        report.unchanged += len(found.keys() - written)
        found.clear()

    # -- the sources --------------------------------------------------------------------------

    def _run_semantic_scholar(
        self, source: SemanticScholarSource, papers: Sequence[PaperRef], report: SourceReport
    ) -> None:
        self._progress.started(source.name, len(papers))
        breaker = _Breaker(self._max_failures)
        for batch in _chunks(papers, source.batch_size):
            if breaker.open:
                report.skipped += len(batch)
                continue
            report.requested += len(batch)
            try:
                answer = source.fetch_batch(batch)
            except SourceUnavailable as exc:
                report.failed += len(batch)
                breaker.give_up(report, exc.reason)
            except RequestFailed as exc:
                log.warning("signals: semantic_scholar batch of %d failed: %s", len(batch), exc.reason)
                report.failed += len(batch)
                breaker.failure(report, exc.reason)
            else:
                breaker.success()
                for reason in answer.problems.values():
                    report.errors[reason] += 1
                if answer.problems:
                    log.warning("signals: semantic_scholar sent %d unusable items", len(answer.problems))
                report.failed += len(answer.problems)
                report.unknown += len(batch) - len(answer.readings) - len(answer.problems)
                self._store(answer.readings, report)
            self._progress.advanced(source.name, len(batch))

    def _run_huggingface(
        self,
        source: HuggingFaceSource,
        papers: Sequence[PaperRef],
        days: Sequence[dt.date],
        report: SourceReport,
        *,
        hf_repos: dict[int, str],
        hf_starred: set[int],
    ) -> None:
        """One listing per day, then a bounded per-paper recheck of what the listings missed.

        A paper nobody listed is `unknown`, unless a listing that could have featured it (a day from
        its submission to `LISTING_GRACE_DAYS` later) was lost, or its recheck failed: then `failed`.
        """
        askable = [paper for paper in papers if source.can_ask(paper.arxiv_id)]
        report.skipped += len(papers) - len(askable)
        report.requested += len(askable)
        by_arxiv_id = {paper.arxiv_id: paper for paper in askable}
        self._progress.started(source.name, len(askable))
        breaker = _Breaker(self._max_failures)
        found: dict[int, HfPaper] = {}
        unread_days: list[dt.date] = []
        for day in days:
            if breaker.open:
                unread_days.append(day)
                continue
            try:
                listing = source.fetch_daily(day)
            except SourceUnavailable as exc:
                unread_days.append(day)
                breaker.give_up(report, exc.reason)
            except RequestFailed as exc:
                log.warning("signals: huggingface listing of %s failed: %s", day, exc.reason)
                unread_days.append(day)
                breaker.failure(report, f"daily listing: {exc.reason}")
            else:
                breaker.success()
                if listing.unusable:
                    report.errors["unusable listing entries"] += listing.unusable
                newly_found = 0
                for arxiv_id, listed in listing.papers.items():
                    if (paper := by_arxiv_id.get(arxiv_id)) is not None:
                        newly_found += paper.paper_id not in found
                        found[paper.paper_id] = listed
                self._progress.advanced(source.name, newly_found)

        rechecks = [] if breaker.open else self._recheck_candidates(askable, found)
        self._progress.advanced(source.name, len(askable) - len(found) - len(rechecks))
        recheck_failed: set[int] = set()
        for paper in rechecks:
            if breaker.open:
                recheck_failed.add(paper.paper_id)
            else:
                try:
                    answer = source.fetch(paper.arxiv_id)
                except SourceUnavailable as exc:
                    recheck_failed.add(paper.paper_id)
                    breaker.give_up(report, exc.reason)
                except RequestFailed as exc:
                    log.warning("signals: huggingface %s failed: %s", paper.arxiv_id, exc.reason)
                    recheck_failed.add(paper.paper_id)
                    breaker.failure(report, exc.reason)
                else:
                    breaker.success()
                    if answer is not None:
                        found[paper.paper_id] = answer
            self._progress.advanced(source.name, 1)

        pending: dict[int, list[Reading]] = {}
        for paper in askable:
            hf_paper = found.get(paper.paper_id)
            if hf_paper is None:
                lost = paper.paper_id in recheck_failed or any(
                    _could_be_listed_on(paper, day) for day in unread_days
                )
                if lost:
                    report.failed += 1
                else:
                    report.unknown += 1
                continue
            readings: list[Reading] = []
            if hf_paper.upvotes is not None:
                readings.append(Reading(paper.paper_id, source.name, "upvotes", hf_paper.upvotes))
            if hf_paper.github_stars is not None:
                # Stars of the linked repo, stored as GitHub's so one key holds them.
                readings.append(Reading(paper.paper_id, GITHUB, "stars", hf_paper.github_stars))
                hf_starred.add(paper.paper_id)
            if (repo := parse_github_repo(hf_paper.github_repo)) is not None:
                hf_repos[paper.paper_id] = repo
            if readings:
                pending[paper.paper_id] = readings
            else:
                report.unknown += 1
            if len(pending) >= self._flush_every:
                self._store(pending, report)
        self._store(pending, report)

    def _recheck_candidates(self, askable: Sequence[PaperRef], found: dict[int, HfPaper]) -> list[PaperRef]:
        """Papers the listings missed that Hugging Face showed before with enough upvotes, most first."""
        missed = {paper.paper_id: paper for paper in askable if paper.paper_id not in found}
        if self._recheck_limit <= 0 or not missed:
            return []
        with self._uow_factory() as uow:
            upvotes = latest_values(uow.session, list(missed), HUGGINGFACE, "upvotes")
        worth_asking = sorted(
            (paper_id for paper_id, value in upvotes.items() if value >= self._recheck_min_upvotes),
            key=lambda paper_id: (-upvotes[paper_id], paper_id),
        )
        return [missed[paper_id] for paper_id in worth_asking[: self._recheck_limit]]

    def _run_github(
        self,
        source: GitHubSource,
        papers: Sequence[PaperRef],
        report: SourceReport,
        *,
        hf_repos: dict[int, str],
        hf_starred: set[int],
    ) -> None:
        papers_by_repo: dict[str, list[int]] = defaultdict(list)
        for paper in papers:
            repo = parse_github_repo(paper.code_url) or hf_repos.get(paper.paper_id)
            if repo is None:
                continue
            if paper.paper_id in hf_starred:
                report.skipped += 1  # Hugging Face already showed this repo's stars
                continue
            papers_by_repo[repo].append(paper.paper_id)
        self._progress.started(source.name, sum(len(ids) for ids in papers_by_repo.values()))
        breaker = _Breaker(self._max_failures)
        pending: dict[int, list[Reading]] = {}
        for repo, paper_ids in papers_by_repo.items():
            if breaker.open:
                report.skipped += len(paper_ids)
                self._progress.advanced(source.name, len(paper_ids))
                continue
            report.requested += len(paper_ids)
            try:
                stars = source.fetch_stars(repo)
            except SourceUnavailable as exc:
                report.failed += len(paper_ids)
                breaker.give_up(report, exc.reason)
            except RequestFailed as exc:
                log.warning("signals: github %s failed: %s", repo, exc.reason)
                report.failed += len(paper_ids)
                breaker.failure(report, exc.reason)
            else:
                breaker.success()
                if stars is None:
                    report.unknown += len(paper_ids)
                else:
                    for paper_id in paper_ids:
                        pending[paper_id] = [Reading(paper_id, source.name, "stars", stars)]
            if len(pending) >= self._flush_every:
                self._store(pending, report)
            self._progress.advanced(source.name, len(paper_ids))
        self._store(pending, report)


def refresh(
    container: Container,
    months: Sequence[str] | None = None,
    sources: Collection[str] | None = None,
    *,
    progress: RefreshProgress | None = None,
    clock: Clock | None = None,
) -> RefreshReport:
    """Refresh signals for `months` (default: current and previous) from `sources` (default: all enabled).

    Raises `ValidationError` only for a bad month or source name; source failures are in the report.
    """
    settings = container.settings
    clock = clock or SystemClock()
    chosen_months = list(dict.fromkeys(months)) if months else default_months(clock.now(), settings.timezone)
    for month in chosen_months:
        month_window(month)  # refuse a bad month before any client is built
    with build_sources(settings, only=sources, clock=clock) as built:
        refresher = SignalRefresher(
            container.uow,
            built,
            clock=clock,
            max_consecutive_failures=settings.signals_max_consecutive_failures,
            progress=progress,
            recheck_limit=settings.signals_huggingface_recheck_limit,
            recheck_min_upvotes=settings.signals_huggingface_recheck_min_upvotes,
        )
        return refresher.refresh(chosen_months)


def prune(container: Container, keep_days: int, *, now: dt.datetime | None = None) -> tuple[int, dt.datetime]:
    """Delete readings last seen more than `keep_days` ago, keeping each signal's newest reading.

    Returns how many rows went and the cut-off. `ValidationError` for a non-positive `keep_days`.
    """
    if keep_days < 1:
        raise ValidationError("Keep at least one day of signal readings (--keep-days 1 or more).")
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=keep_days)
    with container.uow() as uow:
        deleted = prune_readings(uow.session, cutoff)
        uow.commit()
    return deleted, cutoff
