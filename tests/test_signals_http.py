"""The signal sources' HTTP layer against real local servers: pacing, Retry-After, backoff, failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from bot.signals.github import parse_github_repo
from bot.signals.http import (
    JsonHttp,
    MalformedResponse,
    RateLimiter,
    RequestFailed,
    RetryPolicy,
    SourceUnavailable,
    parse_retry_after,
)
from bot.signals.huggingface import HfPaper, HuggingFaceSource
from tests.fakes.signal_servers import FakeClock, FakeGitHub, FakeHuggingFace, Fault, load_payload

NOW = dt.datetime(2026, 10, 28, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def hf() -> Iterator[FakeHuggingFace]:
    server = FakeHuggingFace()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def make_http(
    url: str,
    clock: FakeClock,
    *,
    min_interval: float = 0.0,
    retries: int = 3,
    cap: float = 120.0,
    timeout: float = 5.0,
) -> JsonHttp:
    return JsonHttp(
        source="test",
        client=httpx.Client(base_url=url, timeout=timeout),
        limiter=RateLimiter(min_interval, clock),
        policy=RetryPolicy(max_retries=retries, backoff_seconds=1.0, max_retry_after_seconds=cap),
        clock=clock,
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 28 Oct 2026 09:00:30 GMT", 30.0),
        ("Wed, 28 Oct 2026 08:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("'; DROP TABLE papers; --", None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_429_waits_for_retry_after_then_succeeds(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=429, body='{"error": "slow down"}', headers={"Retry-After": "7"}))
    http = make_http(hf.url, clock)
    payload = http.get("papers/2410.01234")
    assert payload["upvotes"] == 87
    assert clock.sleeps == [7.0]
    assert len(hf.requests) == 2


def test_429_with_http_date_waits_until_then(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=429, headers={"Retry-After": "Wed, 28 Oct 2026 09:01:00 GMT"}))
    assert make_http(hf.url, clock).get("papers/2410.01234") is not None
    assert clock.sleeps == [60.0]


def test_retry_after_beyond_the_cap_gives_the_source_up(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(SourceUnavailable, match="3600s"):
        make_http(hf.url, clock, cap=120).get("papers/2410.01234")
    assert clock.sleeps == []


def test_github_spent_quota_403_gives_the_source_up(clock: FakeClock) -> None:
    server = FakeGitHub()
    server.start()
    try:
        reset = int((NOW + dt.timedelta(minutes=40)).timestamp())
        server.add_fault(
            Fault(
                status=403,
                body='{"message": "API rate limit exceeded"}',
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            )
        )
        with pytest.raises(SourceUnavailable, match="rate limit"):
            make_http(server.url, clock).get("repos/other-lab/toolkit")
    finally:
        server.stop()


def test_5xx_retries_with_exponential_backoff(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=503, times=2))
    assert make_http(hf.url, clock).get("papers/2410.01234") is not None
    assert clock.sleeps == [1.0, 2.0]


def test_5xx_forever_gives_up_after_the_retries(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=500, times=None))
    with pytest.raises(RequestFailed, match="HTTP 500 \\(after 2 retries\\)"):
        make_http(hf.url, clock, retries=2).get("papers/2410.01234")
    assert len(hf.requests) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_timeout_is_retried_then_reported(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=200, delay=0.5, times=None))
    with pytest.raises(RequestFailed, match="timed out"):
        make_http(hf.url, clock, retries=1, timeout=0.1).get("papers/2410.01234")
    assert clock.sleeps == [1.0]


def test_malformed_json_is_not_retried(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=200, body="<html>oops</html>"))
    with pytest.raises(MalformedResponse):
        make_http(hf.url, clock).get("papers/2410.01234")
    assert len(hf.requests) == 1


def test_404_means_unknown_and_401_means_bad_credentials(hf: FakeHuggingFace, clock: FakeClock) -> None:
    http = make_http(hf.url, clock)
    assert http.get("papers/2499.99999") is None
    hf.add_fault(Fault(status=401, body='{"error": "Invalid credentials"}'))
    with pytest.raises(SourceUnavailable, match="HTTP 401"):
        http.get("papers/2410.01234")
    assert clock.sleeps == []


def test_min_interval_spaces_requests(hf: FakeHuggingFace, clock: FakeClock) -> None:
    http = make_http(hf.url, clock, min_interval=0.5)
    for _ in range(3):
        http.get("papers/2410.01234")
    assert clock.sleeps == [0.5, 0.5]


def test_connection_refused_is_a_request_failure(clock: FakeClock) -> None:
    server = FakeHuggingFace()
    server.start()
    url = server.url
    server.stop()
    with pytest.raises(RequestFailed, match="connection failed"):
        make_http(url, clock, retries=1).get("papers/2410.01234")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/Example-Lab/FastAttn", "example-lab/fastattn"),
        ("http://www.github.com/a/b.git", "a/b"),
        ("github.com/owner/repo/tree/main/src", "owner/repo"),
        ("git@github.com:owner/repo.git", "owner/repo"),
        ("https://github.com/owner", None),
        ("https://github.com/orgs/acme", None),
        ("https://gitlab.com/owner/repo", None),
        ("https://github.com.evil.example/owner/repo", None),
        ("https://github.com/owner/../../admin", None),
        ("https://github.com/o'wner/repo", None),
        ("https://github.com/owner/re po", None),
        ("https://github.com/🙂/repo", None),
        ("javascript:alert(1)", None),
        ("https://[::1", None),
        ("x" * 5000, None),
        ("", None),
        (None, None),
    ],
)
def test_github_repo_urls_are_parsed_strictly(url: str | None, expected: str | None) -> None:
    assert parse_github_repo(url) == expected


def test_a_recorded_daily_listing_is_read_by_arxiv_id(hf: FakeHuggingFace, clock: FakeClock) -> None:
    day = dt.date(2026, 10, 3)
    for entry in load_payload("huggingface_daily_papers.json"):
        hf.add_raw_entry(day, entry)
    source = HuggingFaceSource(make_http(hf.url, clock))

    listing = source.fetch_daily(day)

    assert listing.papers == {
        "2410.01234": HfPaper(87.0, "https://github.com/example-lab/FastAttn", 1534.0),
        "2410.02345": HfPaper(2.0, None, None),
        "2410.09999": HfPaper(15.0, "https://github.com/Some-Org/Some-Repo/tree/main", None),  # "v2" dropped
    }
    assert (listing.unusable, listing.pages) == (0, 1)
    assert hf.requests[0].query == {"date": ["2026-10-03"], "limit": ["100"], "p": ["0"]}
    assert source.fetch_daily(dt.date(2026, 10, 4)).papers == {}  # a day without a listing


def test_hostile_listing_entries_are_skipped_and_counted(hf: FakeHuggingFace, clock: FakeClock) -> None:
    day = dt.date(2026, 10, 3)
    hostile: list[object] = [
        None,
        "2410.01234",
        {"paper": None},
        {"paper": {"id": 2410.01234, "upvotes": 5}},
        {"paper": {"id": "2410.01234 OR 1=1", "upvotes": 5}},
        {"paper": {"id": "🙂" * 5000}},
        {"paper": {"id": "cs/0501001", "upvotes": 5}},
        {"paper": {"id": "2410.05678", "upvotes": "NaN", "githubStars": 1e400, "githubRepo": ["x"]}},
    ]
    for entry in hostile:
        hf.add_raw_entry(day, entry)
    listing = HuggingFaceSource(make_http(hf.url, clock)).fetch_daily(day)
    assert listing.unusable == 7
    assert listing.papers == {"2410.05678": HfPaper(None, None, None)}


def test_long_listings_are_paged_and_a_server_ignoring_pages_is_not_followed_forever(
    hf: FakeHuggingFace, clock: FakeClock
) -> None:
    day = dt.date(2026, 10, 3)
    for index in range(7):
        hf.add_paper(f"2410.{index:05d}", upvotes=index, listed_on=day)
    source = HuggingFaceSource(make_http(hf.url, clock), page_size=3)
    assert len(source.fetch_daily(day).papers) == 7
    assert [r.query["p"] for r in hf.requests] == [["0"], ["1"], ["2"]]

    hf.requests.clear()
    same_page = '[{"paper": {"id": "2410.00001", "upvotes": 1}}, {"paper": {"id": "2410.00002"}}]'
    hf.add_fault(Fault(status=200, body=same_page, times=None))
    listing = HuggingFaceSource(make_http(hf.url, clock), page_size=2).fetch_daily(day)
    assert set(listing.papers) == {"2410.00001", "2410.00002"}
    assert len(hf.requests) == 2  # the second page brought nothing new: stop


def test_http_counts_every_request_it_sends(hf: FakeHuggingFace, clock: FakeClock) -> None:
    hf.add_fault(Fault(status=503, times=2))
    http = make_http(hf.url, clock)
    http.get("papers/2410.01234")
    http.get("papers/2410.09876")  # 404
    assert http.calls == len(hf.requests) == 4
