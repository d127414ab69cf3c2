"""The signals refresh against local Semantic Scholar / Hugging Face / GitHub servers and a real database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container, build
from bot.db.models import PaperSignal
from bot.errors import ValidationError
from bot.settings import load_settings
from bot.signals.service import LISTING_GRACE_DAYS, default_months, listing_days, month_window, refresh
from bot.signals.store import known_venues, latest_signals, record_readings
from bot.signals.types import Reading, RefreshReport, SourceReport
from tests.fakes.signal_servers import (
    FakeClock,
    FakeGitHub,
    FakeHuggingFace,
    FakeSemanticScholar,
    Fault,
    RecordedRequest,
    insert_papers,
)

SUBMITTED = dt.datetime(2026, 10, 2, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MONTH = "2026-10"


@dataclass
class Servers:
    s2: FakeSemanticScholar
    hf: FakeHuggingFace
    github: FakeGitHub


@pytest.fixture
def servers() -> Iterator[Servers]:
    started = Servers(FakeSemanticScholar(), FakeHuggingFace(), FakeGitHub())
    for server in (started.s2, started.hf, started.github):
        server.start()
    yield started
    for server in (started.s2, started.hf, started.github):
        server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 10, 28, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def make_container(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("SEMANTIC_SCHOLAR_API_KEY", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    built: list[Container] = []

    def make(db_url: str, **overrides: Any) -> Container:
        settings = load_settings(
            database_url=db_url,
            signals_semantic_scholar_url=servers.s2.url,
            signals_huggingface_url=servers.hf.url,
            signals_github_url=servers.github.url,
            signals_max_retries=2,
            signals_backoff_seconds=1.0,
            signals_timeout_seconds=2.0,
            **overrides,
        )
        container = build(settings)
        built.append(container)
        return container

    yield make
    for container in built:
        container.close()


def source(report: RefreshReport, name: str) -> SourceReport:
    return next(s for s in report.sources if s.source == name)


def signal_rows(container: Container) -> int:
    with container.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(PaperSignal)) or 0


def batch_ids(request: RecordedRequest) -> list[str]:
    ids: list[str] = request.json()["ids"]
    return ids


def many_papers(container: Container, servers: Servers, count: int) -> dict[str, int]:
    """`count` papers; Semantic Scholar knows five in six of them (citations = index)."""
    arxiv_ids = [f"2410.{i:05d}" for i in range(10_000, 10_000 + count)]
    for index, arxiv_id in enumerate(arxiv_ids):
        if index % 6:
            servers.s2.add_paper(arxiv_id, citations=index, influential=index // 10)
    return insert_papers(container.session_factory, arxiv_ids, submitted_at=SUBMITTED)


def known_count(indexes: range) -> int:
    return sum(1 for i in indexes if i % 6)


def test_1200_papers_take_three_aligned_batches(
    db_url: str, servers: Servers, make_container: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMANTIC_SCHOLAR_API_KEY", "s2-test-key")
    container = make_container(db_url)
    ids = many_papers(container, servers, 1200)

    report = refresh(container, [MONTH], ["semantic_scholar"], clock=clock)

    batches = servers.s2.batch_requests
    assert [len(batch_ids(r)) for r in batches] == [500, 500, 200]
    sent = [i for r in batches for i in batch_ids(r)]
    assert sent == [f"ARXIV:2410.{i:05d}" for i in range(10_000, 11_200)]
    assert all(r.headers["x-api-key"] == "s2-test-key" for r in batches)
    assert batches[0].query["fields"] == ["citationCount,influentialCitationCount,venue,externalIds"]
    # Paced by the rate limiter (1 s by default) between the three calls.
    assert clock.sleeps == [1.0, 1.0]

    s2 = source(report, "semantic_scholar")
    assert (s2.requested, s2.updated, s2.unknown, s2.failed, s2.skipped) == (1200, 1000, 200, 0, 0)
    with container.uow() as uow:
        signals = latest_signals(uow.session, list(ids.values()))
    assert len(signals) == 1000
    assert ids["2410.10000"] not in signals  # null in the answer: no signal
    assert signals[ids["2410.10601"]]["semantic_scholar.citations"] == 601
    assert signals[ids["2410.10601"]]["semantic_scholar.influential_citations"] == 60
    # Every value landed on its own paper despite the nulls in between.
    assert all(
        signals[ids[f"2410.{10_000 + i:05d}"]]["semantic_scholar.citations"] == i
        for i in range(1, 1200, 7)
        if i % 6
    )


def test_a_failing_batch_is_reported_and_the_others_are_stored(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url)
    ids = many_papers(container, servers, 1200)
    servers.s2.add_fault(Fault(status=500, when=lambda r: "ARXIV:2410.10600" in r.text, times=None))

    report = refresh(container, [MONTH], ["semantic_scholar"], clock=clock)

    s2 = source(report, "semantic_scholar")
    lost_known = known_count(range(500, 1000))
    assert (s2.failed, s2.updated, s2.unknown) == (500, 1000 - lost_known, 200 - (500 - lost_known))
    assert s2.errors == {"HTTP 500 (after 2 retries)": 1}
    assert s2.gave_up is None
    assert len(servers.s2.batch_requests) == 3 + 2  # the failing batch was tried three times
    with container.uow() as uow:
        signals = latest_signals(uow.session, list(ids.values()))
    assert ids["2410.10599"] not in signals
    assert ids["2410.10601"] not in signals
    assert signals[ids["2410.11199"]]["semantic_scholar.citations"] == 1199  # batch 3 stored


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "malformed JSON"),
        ('{"error": "surprise"}', "unexpected response shape (dict, expected a list)"),
        ("[null, null]", "answer not aligned with the request (2 items for 500 ids)"),
    ],
)
def test_garbage_from_semantic_scholar_costs_only_its_batch(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock, body: str, reason: str
) -> None:
    container = make_container(sqlite_url)
    many_papers(container, servers, 1200)
    servers.s2.add_fault(Fault(status=200, body=body))  # the first batch only

    report = refresh(container, [MONTH], ["semantic_scholar"], clock=clock)

    s2 = source(report, "semantic_scholar")
    assert s2.errors == {reason: 1}
    assert (s2.failed, s2.updated) == (500, 1000 - known_count(range(500)))
    assert len(servers.s2.batch_requests) == 3  # garbage is not retried


def test_odd_items_in_a_batch_are_skipped_alone(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url)
    ids = insert_papers(
        container.session_factory, ["2410.01234", "2410.02345", "2410.05678"], submitted_at=SUBMITTED
    )
    servers.s2.add_fault(
        Fault(status=200, body='[{"citationCount": 9, "influentialCitationCount": true}, "weird", {}]')
    )
    report = refresh(container, [MONTH], ["semantic_scholar"], clock=clock)
    s2 = source(report, "semantic_scholar")
    assert (s2.updated, s2.failed) == (1, 2)
    assert s2.errors == {"unexpected item shape": 1, "no usable citation counts": 1}
    with container.uow() as uow:
        signals = latest_signals(uow.session, list(ids.values()))
    assert signals == {
        ids["2410.01234"]: {
            "semantic_scholar.citations": 9.0,
            "semantic_scholar.citations.growth": pytest.approx(9 / (26 + 1 / 24)),
        }
    }


def test_429_retry_after_is_honoured_during_a_refresh(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url, signals_semantic_scholar_min_interval_seconds=0)
    many_papers(container, servers, 600)
    servers.s2.add_fault(
        Fault(status=429, body='{"message": "Too Many Requests"}', headers={"Retry-After": "11"})
    )

    report = refresh(container, [MONTH], ["semantic_scholar"], clock=clock)

    assert clock.sleeps == [11.0]
    assert source(report, "semantic_scholar").updated == 500
    assert report.ok


LISTED = dt.date(2026, 10, 3)


def hf_and_github_papers(container: Container, servers: Servers) -> dict[str, int]:
    servers.hf.add_paper("2410.03456", upvotes=4, githubRepo="https://github.com/Other-Lab/Toolkit")
    servers.hf.add_paper("2410.06789", upvotes="many", githubStars=-5, githubRepo=42)
    # 2410.02345 (no upvotes on Hugging Face) is featured a day later, with two garbled entries.
    servers.hf.list_on(LISTED, "2410.01234", "2410.03456", "2410.06789")
    servers.hf.list_on(LISTED + DAY, "2410.02345")
    servers.hf.add_raw_entry(LISTED + DAY, [1, 2])
    servers.hf.add_raw_entry(LISTED + DAY, {"paper": {"id": "'; DROP TABLE papers; --"}})
    return insert_papers(
        container.session_factory,
        ["2410.01234", "2410.02345", "2410.03456", "2410.04567", "cs/0501001", "2410.05678", "2410.06789"],
        submitted_at=SUBMITTED,
        code_urls={
            "2410.01234": "https://github.com/example-lab/FastAttn",  # HF shows its stars
            "2410.02345": "https://github.com/other-lab/toolkit",
            "2410.04567": "https://github.com/ghost/missing",
        },
    )


def listed_dates(server: FakeHuggingFace) -> list[str]:
    return [r.query["date"][0] for r in server.listing_requests]


def test_upvotes_and_stars_with_github_asked_only_when_hugging_face_lacks_stars(
    db_url: str, servers: Servers, make_container: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    container = make_container(db_url)
    ids = hf_and_github_papers(container, servers)

    report = refresh(container, [MONTH], ["huggingface", "github"], clock=clock)

    assert [s.source for s in report.sources] == ["huggingface", "github"]
    hf = source(report, "huggingface")
    assert (hf.requested, hf.updated, hf.unknown, hf.failed, hf.skipped) == (6, 2, 4, 0, 1)
    assert hf.errors == {"unusable listing entries": 2}
    # One listing per day of October up to today (the 28th), no per-paper request at all.
    assert listed_dates(servers.hf) == [f"2026-10-{day:02d}" for day in range(1, 29)]
    assert servers.hf.paper_requests == []
    assert hf.calls == 28
    assert all(r.query["limit"] == ["100"] and r.query["p"] == ["0"] for r in servers.hf.listing_requests)
    # One request per repo, whatever the case of its name or how many papers share it.
    assert servers.github.repo_requests == ["other-lab/toolkit", "ghost/missing"]
    assert all(r.headers["authorization"] == "Bearer ghp_test" for r in servers.github.requests)
    assert all(r.headers["x-github-api-version"] == "2022-11-28" for r in servers.github.requests)
    gh = source(report, "github")
    assert (gh.requested, gh.updated, gh.unknown, gh.skipped) == (3, 2, 1, 1)
    assert gh.calls == 2

    with container.uow() as uow:
        signals = latest_signals(uow.session, list(ids.values()))
    assert signals[ids["2410.01234"]]["huggingface.upvotes"] == 87
    assert signals[ids["2410.01234"]]["github.stars"] == 1534
    assert signals[ids["2410.02345"]].keys() == {"github.stars", "github.stars.growth"}
    assert signals[ids["2410.02345"]]["github.stars"] == 312
    assert signals[ids["2410.03456"]]["github.stars"] == 312
    assert signals[ids["2410.03456"]]["huggingface.upvotes"] == 4
    for absent in ("2410.04567", "cs/0501001", "2410.05678", "2410.06789"):
        assert ids[absent] not in signals


def on_day(day: dt.date) -> Any:
    return lambda request: request.query.get("date") == [day.isoformat()]


def test_a_lost_listing_day_fails_only_the_papers_it_could_have_featured(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url)
    ids = hf_and_github_papers(container, servers)
    late = insert_papers(container.session_factory, ["2410.07777"], submitted_at=SUBMITTED + 10 * DAY)
    servers.hf.add_fault(Fault(status=500, when=on_day(LISTED), times=None))

    report = refresh(container, [MONTH], ["huggingface"], clock=clock)

    hf = source(report, "huggingface")
    # Submitted on the 2nd, every paper could have been on the 3rd's listing, except 2410.02345
    # (found on the 4th) and the paper submitted ten days later.
    assert (hf.requested, hf.updated, hf.unknown, hf.failed) == (7, 0, 2, 5)
    assert hf.errors["daily listing: HTTP 500 (after 2 retries)"] == 1
    assert hf.gave_up is None
    assert not hf.failed_entirely
    assert hf.calls == 28 + 2  # the lost day was tried three times
    with container.uow() as uow:
        assert latest_signals(uow.session, [*ids.values(), *late.values()]) == {}


def test_a_month_costs_hugging_face_a_request_a_day_not_a_paper(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url)
    arxiv_ids = [f"2409.{i:05d}" for i in range(300)] + [f"2410.{i:05d}" for i in range(300)]
    september = dt.datetime(2026, 9, 10, tzinfo=dt.UTC)
    insert_papers(container.session_factory, arxiv_ids[:300], submitted_at=september)
    ids = insert_papers(container.session_factory, arxiv_ids[300:], submitted_at=SUBMITTED)
    for index, arxiv_id in enumerate(arxiv_ids):
        # 250 papers on one day of October: that listing takes three pages of 100.
        day = dt.date(2026, 10, 5) if index >= 350 else dt.date(2026, 9, 12) + dt.timedelta(days=index % 20)
        servers.hf.add_paper(arxiv_id, upvotes=index, listed_on=day)

    report = refresh(container, ["2026-10", "2026-09"], ["huggingface"], clock=clock)

    hf = source(report, "huggingface")
    assert (hf.requested, hf.updated, hf.unknown, hf.failed) == (600, 600, 0, 0)
    # September 1 .. October 28 (September's grace week overlaps October): 58 days, 60 requests.
    days = sorted({r.query["date"][0] for r in servers.hf.listing_requests})
    assert (days[0], days[-1], len(days)) == ("2026-09-01", "2026-10-28", 58)
    assert hf.calls == len(servers.hf.requests) == 60
    pages = [r.query["p"][0] for r in servers.hf.listing_requests if r.query["date"] == ["2026-10-05"]]
    assert pages == ["0", "1", "2"]
    with container.uow() as uow:
        signals = latest_signals(uow.session, list(ids.values()))
    assert signals[ids["2410.00299"]]["huggingface.upvotes"] == 599


def test_papers_the_listings_missed_are_rechecked_within_a_bound(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(
        sqlite_url, signals_huggingface_recheck_limit=2, signals_huggingface_recheck_min_upvotes=10
    )
    earlier = {
        "2410.00001": 50.0,
        "2410.00002": 30.0,
        "2410.00003": 20.0,
        "2410.00004": 5.0,
        "2410.00005": 90.0,
    }
    ids = insert_papers(container.session_factory, list(earlier), submitted_at=SUBMITTED)
    with container.uow() as uow:
        readings = [Reading(ids[a], "huggingface", "upvotes", v) for a, v in earlier.items()]
        record_readings(uow.session, readings, clock.now() - 20 * DAY)
        uow.commit()
    for arxiv_id, value in earlier.items():
        servers.hf.add_paper(arxiv_id, upvotes=value + 1)
    servers.hf.list_on(LISTED, "2410.00005")  # the listing shows this one: no recheck needed

    report = refresh(container, [MONTH], ["huggingface"], clock=clock)

    # Most upvoted first, at most two, never under ten upvotes.
    assert servers.hf.paper_requests == ["2410.00001", "2410.00002"]
    hf = source(report, "huggingface")
    assert (hf.updated, hf.unknown, hf.failed) == (3, 2, 0)
    assert hf.calls == 28 + 2
    with container.uow() as uow:
        signals = latest_signals(uow.session, list(ids.values()))
    assert [signals[ids[a]]["huggingface.upvotes"] for a in earlier] == [51, 31, 20, 5, 91]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "daily listing: malformed JSON"),
        ('{"error": "surprise"}', "daily listing: unexpected listing shape (dict, expected a list)"),
    ],
)
def test_a_garbled_listing_costs_only_its_day(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock, body: str, reason: str
) -> None:
    container = make_container(sqlite_url)
    ids = hf_and_github_papers(container, servers)
    servers.hf.add_fault(Fault(status=200, body=body, when=on_day(dt.date(2026, 10, 1))))
    report = refresh(container, [MONTH], ["huggingface"], clock=clock)
    hf = source(report, "huggingface")
    assert hf.errors[reason] == 1
    assert (hf.updated, hf.failed) == (2, 0)  # the 1st is before every paper's submission
    with container.uow() as uow:
        signals = latest_signals(uow.session, [ids["2410.01234"]])
    assert signals[ids["2410.01234"]]["huggingface.upvotes"] == 87


def test_listing_days_cover_each_month_and_its_grace_week_but_never_the_future() -> None:
    september, october = month_window("2026-09"), month_window("2026-10")
    days = listing_days([october, september], dt.date(2026, 10, 3))
    assert (days[0], days[-1]) == (dt.date(2026, 9, 1), dt.date(2026, 10, 3))
    assert len(days) == len(set(days)) == 33
    assert listing_days([october], dt.date(2026, 9, 30)) == []
    assert len(listing_days([september], dt.date(2027, 1, 1))) == 30 + LISTING_GRACE_DAYS


def test_a_venue_named_by_semantic_scholar_is_kept_as_a_flag(
    db_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(db_url)
    # In the recorded answer: 2410.01234 "arXiv.org", 2410.02345 "Neural Information Processing
    # Systems", 2410.04567 "" (no venue).
    ids = insert_papers(
        container.session_factory, ["2410.01234", "2410.02345", "2410.04567"], submitted_at=SUBMITTED
    )
    with_ref = insert_papers(
        container.session_factory,
        ["2410.08888"],
        submitted_at=SUBMITTED,
        journal_refs={"2410.08888": "NeurIPS 2026"},
    )
    servers.s2.add_paper("2410.08888", citations=1)
    servers.s2.papers["2410.08888"]["venue"] = "Neural Information Processing Systems"

    refresh(container, [MONTH], ["semantic_scholar"], clock=clock)

    everyone = [*ids.values(), *with_ref.values()]
    with container.uow() as uow:
        assert known_venues(uow.session, everyone) == {ids["2410.02345"]}
        signals = latest_signals(uow.session, everyone)
    # A flag, not momentum: the ranking's signals stay counts.
    assert signals[ids["2410.02345"]].keys() == {
        "semantic_scholar.citations",
        "semantic_scholar.citations.growth",
        "semantic_scholar.influential_citations",
        "semantic_scholar.influential_citations.growth",
    }


def test_unchanged_values_are_never_stored_again(
    db_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(db_url)
    ids = hf_and_github_papers(container, servers)
    many_papers(container, servers, 30)

    first = refresh(container, [MONTH], clock=clock)
    rows = signal_rows(container)
    assert rows > 0
    clock.advance(3600)
    second = refresh(container, [MONTH], clock=clock)

    assert signal_rows(container) == rows
    for name in ("semantic_scholar", "huggingface", "github"):
        assert source(second, name).updated == 0
        assert source(second, name).unchanged == source(first, name).updated > 0

    # Days later nothing changed: still no new row, but the readings are dated by their last sighting.
    clock.advance(5 * 24 * 3600)
    started = clock.now()
    refresh(container, [MONTH], clock=clock)
    assert signal_rows(container) == rows
    with container.uow() as uow:
        oldest = uow.session.scalar(select(func.min(PaperSignal.observed_at)))
    assert oldest is not None
    assert started <= oldest <= clock.now()

    # One value moves: exactly one row more, and growth spans the two sightings.
    servers.hf.papers["2410.01234"]["upvotes"] = 97
    clock.advance(2 * 24 * 3600)
    third = refresh(container, [MONTH], ["huggingface"], clock=clock)
    assert (source(third, "huggingface").updated, signal_rows(container)) == (1, rows + 1)
    with container.uow() as uow:
        signals = latest_signals(uow.session, [ids["2410.01234"]])[ids["2410.01234"]]
    assert signals["huggingface.upvotes"] == 97
    assert signals["huggingface.upvotes.growth"] == pytest.approx(10 / 2, rel=1e-3)  # (pacing moves time)


def test_a_source_that_is_down_is_given_up_and_the_others_still_run(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url)
    many_papers(container, servers, 40)
    servers.hf.stop()  # connection refused from now on

    report = refresh(container, [MONTH], clock=clock)

    hf = source(report, "huggingface")
    assert hf.gave_up is not None
    assert hf.gave_up.startswith("5 failures in a row")
    assert hf.calls == 5 * 3  # five days tried (with two retries each), the other 23 not at all
    assert (hf.requested, hf.failed, hf.skipped) == (40, 40, 0)
    assert source(report, "semantic_scholar").updated == 33
    assert not report.ok
    assert report.failed_sources == ["huggingface"]


def test_refused_credentials_stop_the_source_at_once(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url)
    hf_and_github_papers(container, servers)
    servers.github.add_fault(Fault(status=401, body='{"message": "Bad credentials"}'))

    report = refresh(container, [MONTH], ["github"], clock=clock)

    gh = source(report, "github")
    assert gh.gave_up == "access refused (HTTP 401); check the API key or token"
    # Without Hugging Face, three papers name a repo in code_url: the first request is refused.
    assert (gh.requested, gh.failed, gh.skipped) == (1, 1, 2)
    assert len(servers.github.requests) == 1


def test_disabled_sources_are_not_asked(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url, signals_huggingface_enabled=False, signals_github_enabled=False)
    many_papers(container, servers, 10)
    report = refresh(container, [MONTH], clock=clock)
    assert [s.source for s in report.sources] == ["semantic_scholar"]
    assert servers.hf.requests == []
    assert servers.github.requests == []
    with pytest.raises(ValidationError, match="TRENDS_SIGNALS_GITHUB_ENABLED"):
        refresh(container, [MONTH], ["github"], clock=clock)


@pytest.mark.parametrize(
    "month", ["2026-13", "October", "2026-1", "'; DROP TABLE papers; --", "2026-10" * 700]
)
def test_bad_months_are_refused_before_any_request(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock, month: str
) -> None:
    container = make_container(sqlite_url)
    with pytest.raises(ValidationError, match="YYYY-MM"):
        refresh(container, [month], clock=clock)
    assert servers.s2.requests == []


@pytest.mark.parametrize("name", ["papers_with_code", "", "github; rm -rf /"])
def test_unknown_sources_are_refused(
    sqlite_url: str, make_container: Any, clock: FakeClock, name: str
) -> None:
    with pytest.raises(ValidationError, match="choose from semantic_scholar, huggingface, github"):
        refresh(make_container(sqlite_url), [MONTH], [name], clock=clock)


def test_months_default_to_this_and_last_where_the_team_lives() -> None:
    assert default_months(dt.datetime(2027, 1, 15, tzinfo=dt.UTC)) == ["2027-01", "2026-12"]
    late_october = dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC)
    assert default_months(late_october, "Asia/Tokyo") == ["2026-11", "2026-10"]
    assert month_window("2026-12") == (
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )


def test_papers_outside_the_months_are_left_alone(
    sqlite_url: str, servers: Servers, make_container: Any, clock: FakeClock
) -> None:
    container = make_container(sqlite_url)
    insert_papers(
        container.session_factory, ["2409.00001"], submitted_at=dt.datetime(2026, 9, 30, 23, tzinfo=dt.UTC)
    )
    insert_papers(container.session_factory, ["2410.01234"], submitted_at=SUBMITTED)
    report = refresh(container, [MONTH], ["semantic_scholar"], clock=clock)
    assert report.papers == 1
    assert batch_ids(servers.s2.batch_requests[0]) == ["ARXIV:2410.01234"]
