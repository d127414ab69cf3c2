"""The harvester end to end: fake arXiv over HTTP, the real `arxiv` client, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import HarvestRun, Paper
from bot.db.papers import UpsertCounts
from bot.db.uow import UnitOfWork
from bot.errors import HarvestError, ValidationError
from bot.harvest.harvester import DEFAULT_SPLIT_THRESHOLD, Harvester
from bot.harvest.source import ArxivSource, Window
from tests.fakes.arxiv_server import FakeArxivServer, RecordedRequest, make_records

OCT1 = dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC)
FIRST, LAST = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
CATS = ["cs.LG", "cs.CL"]
# 60 papers, one every 11 hours from 1 October: all inside October.
PAPERS = make_records(60, first=OCT1, spacing=dt.timedelta(hours=11), categories=("cs.LG", "cs.CL"))


@pytest.fixture
def server() -> Iterator[FakeArxivServer]:
    with FakeArxivServer(PAPERS) as fake:
        yield fake


def _harvester(
    server: FakeArxivServer, session_factory: sessionmaker[Session], *, split_threshold: int = 1000
) -> Harvester:
    source = ArxivSource(
        api_url=server.url,
        page_size=10,
        delay_seconds=0.0,
        num_retries=1,
        timeout_seconds=5.0,
        bad_page_retries=1,
    )
    return Harvester(lambda: UnitOfWork(session_factory), source, split_threshold=split_threshold)


def _stored_ids(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(Paper.arxiv_id).order_by(Paper.arxiv_id)))


def _runs(session_factory: sessionmaker[Session]) -> list[HarvestRun]:
    with session_factory() as session:
        return list(session.scalars(select(HarvestRun).order_by(HarvestRun.id)))


ALL_IDS = sorted(r.arxiv_id for r in PAPERS)


def test_harvest_stores_every_page_and_rerun_adds_nothing(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    harvester = _harvester(server, session_factory)
    first = harvester.harvest(FIRST, LAST, CATS)
    assert (first.fetched, first.pages, first.counts) == (60, 6, UpsertCounts(inserted=60))
    assert _stored_ids(session_factory) == ALL_IDS

    again = harvester.harvest(FIRST, LAST, CATS)
    assert again.counts == UpsertCounts(inserted=0, updated=0, unchanged=60)
    assert _stored_ids(session_factory) == ALL_IDS
    runs = _runs(session_factory)
    assert [(r.status, r.inserted, r.fetched) for r in runs] == [("done", 60, 60), ("done", 0, 60)]
    assert runs[0].cursor == max(r.submitted_at for r in PAPERS)
    assert runs[0].categories == ["cs.CL", "cs.LG"]
    assert runs[0].finished_at is not None


def test_newer_versions_replace_older_ones(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    harvester = _harvester(server, session_factory)
    harvester.harvest(FIRST, LAST, CATS)
    revised = [
        dataclasses.replace(r, version=2, title=r.title + " (v2)", updated_at=r.updated_at + dt.timedelta(2))
        if i % 3 == 0
        else r
        for i, r in enumerate(PAPERS)
    ]
    server.set_records(revised)
    result = harvester.harvest(FIRST, LAST, CATS)
    assert result.counts == UpsertCounts(inserted=0, updated=20, unchanged=40)
    with session_factory() as session:
        assert session.scalar(select(func.count()).where(Paper.version == 2)) == 20
        assert session.scalar(select(func.count()).where(Paper.title.like("%(v2)"))) == 20


def test_cross_listed_papers_are_stored_once(session_factory: sessionmaker[Session]) -> None:
    # The same papers listed under both categories, as separate feed entries.
    cross = make_records(8, first=OCT1, categories=("cs.CL", "cs.LG"))
    only_cl = [dataclasses.replace(r, categories=("cs.CL",), primary_category="cs.CL") for r in cross]
    with FakeArxivServer(cross + only_cl) as fake:
        result = _harvester(fake, session_factory).harvest(FIRST, LAST, CATS)
    assert result.fetched == 16
    assert result.counts.inserted == 8
    assert len(_stored_ids(session_factory)) == 8


def test_big_windows_are_split_in_halves(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    assert DEFAULT_SPLIT_THRESHOLD == 10_000
    assert inspect.signature(Harvester).parameters["split_threshold"].default == 10_000

    result = _harvester(server, session_factory, split_threshold=25).harvest(FIRST, LAST, CATS)
    assert result.counts.inserted == 60
    assert result.splits >= 1
    assert _stored_ids(session_factory) == ALL_IDS

    def size(request: RecordedRequest) -> int:
        return len(server.matching(request.search_query, "submittedDate", "ascending"))

    # The windows actually harvested (first requests of small enough windows) tile October exactly.
    leaves = sorted((r.first, r.last) for r in server.requests if r.start == 0 and size(r) <= 25)
    assert leaves[0][0] == OCT1
    assert leaves[-1][1] == dt.datetime(2026, 10, 31, 23, 59, tzinfo=dt.UTC)
    assert all(b[0] - a[1] == dt.timedelta(minutes=1) for a, b in itertools.pairwise(leaves))
    assert all(size(r) <= 25 for r in server.requests if r.start > 0)  # only small windows are paged
    whole_month = [r for r in server.requests if (r.first, r.last) == (leaves[0][0], leaves[-1][1])]
    assert len(whole_month) == 1  # the whole month was only probed, never paged


def test_resume_after_a_crash_mid_window(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    class Crash(Exception):
        pass

    class CrashAfterTwoPages:
        pages = 0

        def window_started(self, window: Window, total: int) -> None:
            pass

        def window_split(self, window: Window, total: int) -> None:
            pass

        def page_stored(self, window: Window, done: int, total: int, counts: UpsertCounts) -> None:
            self.pages += 1
            if self.pages == 2:
                raise Crash("the process was killed")

    harvester = _harvester(server, session_factory)
    with pytest.raises(Crash):
        harvester.harvest(FIRST, LAST, CATS, CrashAfterTwoPages())
    assert _stored_ids(session_factory) == ALL_IDS[:20]
    (crashed,) = _runs(session_factory)
    assert crashed.status == "failed"
    assert crashed.cursor == PAPERS[19].submitted_at
    assert "Crash" in (crashed.error or "")

    server.requests.clear()
    resumed = harvester.harvest(FIRST, LAST, CATS)
    assert resumed.resumed_from == PAPERS[19].submitted_at
    assert server.requests[0].first == PAPERS[19].submitted_at  # not the start of the month
    assert resumed.counts.inserted == 40
    assert _stored_ids(session_factory) == ALL_IDS
    (run,) = _runs(session_factory)  # the same run finished, not a new one
    assert (run.id, run.status, run.inserted, run.error) == (crashed.id, "done", 60, None)
    assert run.fetched == 20 + resumed.fetched


def test_a_different_category_set_does_not_resume_another_run(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    server.inject("status", status=500, times=None, skip=1)
    with pytest.raises(HarvestError):
        _harvester(server, session_factory).harvest(FIRST, LAST, CATS)
    server.clear_faults()
    result = _harvester(server, session_factory).harvest(FIRST, LAST, ["cs.LG"])
    assert result.resumed_from is None
    assert [r.status for r in _runs(session_factory)] == ["failed", "done"]


def test_broken_pages_fail_with_the_window_and_keep_what_was_stored(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    server.inject("truncated", times=None, skip=3)
    with pytest.raises(HarvestError) as caught:
        _harvester(server, session_factory).harvest(FIRST, LAST, CATS)
    assert "2026-10-01 00:00–2026-10-31 23:59 UTC" in str(caught.value)
    assert _stored_ids(session_factory) == ALL_IDS[:30]
    (run,) = _runs(session_factory)
    assert run.status == "failed"
    assert run.inserted == 30
    assert "broken page" in (run.error or "")

    server.clear_faults()
    _harvester(server, session_factory).harvest(FIRST, LAST, CATS)
    assert _stored_ids(session_factory) == ALL_IDS
    assert [(r.status, r.inserted) for r in _runs(session_factory)] == [("done", 60)]


def test_transient_faults_are_absorbed(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    server.inject("status", status=503, times=1, skip=1)
    server.inject("empty", times=1, skip=1)
    server.inject("malformed", times=1, skip=1)
    result = _harvester(server, session_factory).harvest(FIRST, LAST, CATS)
    assert result.counts.inserted == 60
    assert len(server.requests) == 6 + 3
    assert {r.start for r in server.requests} == {0, 10, 20, 30, 40, 50}


def test_empty_pages_past_the_clients_retries_get_another_round(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    server.inject("empty", times=3, skip=1)  # the client (1 retry) gives up once; the source tries again
    result = _harvester(server, session_factory).harvest(FIRST, LAST, CATS)
    assert result.counts.inserted == 60


def test_invalid_windows_are_refused_without_a_run(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    harvester = _harvester(server, session_factory)
    with pytest.raises(ValidationError, match="after it ends"):
        harvester.harvest(LAST, FIRST, CATS)
    with pytest.raises(ValidationError):
        harvester.harvest(FIRST, LAST, ["cs.LG", "not a category"])
    with pytest.raises(ValidationError):
        harvester.harvest(FIRST, LAST, [" "])
    assert _runs(session_factory) == []
    assert server.requests == []
