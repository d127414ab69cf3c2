"""`ArxivSource` driving the real `arxiv` client against the fake arXiv server over HTTP."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
from collections.abc import Iterator

import pytest
from pytest_socket import SocketConnectBlockedError

from bot.errors import HarvestError, ValidationError
from bot.harvest.source import ArxivSource, Window, build_query
from bot.paper_records import PaperRecord
from bot.settings import load_settings
from tests.fakes.arxiv_server import FakeArxivServer, make_records
from tests.paper_corpus import generate_papers, hostile_papers

OCT1 = dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC)
OCTOBER = Window.for_days(dt.date(2026, 10, 1), dt.date(2026, 10, 31))


@pytest.fixture
def server() -> Iterator[FakeArxivServer]:
    with FakeArxivServer(make_records(25, first=OCT1, categories=("cs.LG", "cs.CL"))) as fake:
        yield fake


def _source(server: FakeArxivServer, page_size: int = 10, **overrides: float) -> ArxivSource:
    options: dict[str, float] = {"num_retries": 2, "timeout_seconds": 5.0, **overrides}
    return ArxivSource(
        api_url=server.url,
        page_size=page_size,
        delay_seconds=0.0,
        num_retries=int(options["num_retries"]),
        timeout_seconds=options["timeout_seconds"],
        bad_page_retries=2,
    )


def test_query_shape_and_paging(server: FakeArxivServer) -> None:
    source = _source(server)
    page = source.fetch_page(OCTOBER, ["cs.LG", "cs.CL"], 20)
    assert page.total == 25
    assert page.start == 20
    assert [r.arxiv_id for r in page.records] == [f"2610.{i:05d}" for i in range(21, 26)]
    (request,) = server.requests
    assert request.search_query == "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202610010000 TO 202610312359]"
    assert (request.start, request.max_results) == (20, 10)
    assert (request.sort_by, request.sort_order) == ("submittedDate", "ascending")
    assert request.user_agent.startswith("arxiv.py/")


def test_records_are_converted_faithfully(server: FakeArxivServer) -> None:
    (original,) = make_records(1, first=OCT1, categories=("cs.CL", "cs.LG"), id_prefix="2611", version=3)
    original = dataclasses.replace(
        original,
        title='Tokens & <tags>: "quoted" — 🤖',
        abstract="Line one\n  line two.",
        authors=("Zoë Ångström", "B. Author", "A. Author"),
        comment="  Code: https://github.com/x/y ",
        journal_ref="ACL 2026",
        doi="10.1000/xyz123",
    )
    server.set_records([original])
    (record,) = _source(server).fetch_page(OCTOBER, ["cs.CL"], 0).records
    assert record.arxiv_id == "2611.00001"
    assert record.version == 3
    assert record.title == original.title
    assert record.abstract == "Line one line two."
    assert record.authors == ("Zoë Ångström", "B. Author", "A. Author")  # order kept
    assert record.categories == ("cs.CL", "cs.LG")
    assert record.primary_category == "cs.CL"
    assert record.submitted_at == original.submitted_at
    assert record.updated_at == original.updated_at
    assert record.submitted_at.tzinfo is not None
    assert record.updated_at.utcoffset() == dt.timedelta(0)
    assert (record.comment, record.journal_ref, record.doi) == (
        "Code: https://github.com/x/y",
        "ACL 2026",
        "10.1000/xyz123",
    )


def _squashed(record: PaperRecord) -> PaperRecord:
    """What the parser makes of a record: runs of whitespace (also non-breaking) become one space."""
    return dataclasses.replace(
        record,
        title=" ".join(record.title.split()),
        abstract=" ".join(record.abstract.split()),
        authors=tuple(" ".join(name.split()) for name in record.authors),
        comment=" ".join(record.comment.split()) if record.comment else None,
    )


def test_generated_papers_round_trip_through_the_feed() -> None:
    papers = generate_papers(400, seed=11, hostile_share=0.3)
    with FakeArxivServer(papers) as fake:
        source = _source(fake, page_size=1000)
        march = Window.for_days(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        categories = sorted({c for r in papers for c in r.categories})
        page = source.fetch_page(march, categories, 0)
    assert page.total == len(papers) == len(page.records)
    assert {r.arxiv_id: r for r in page.records} == {r.arxiv_id: _squashed(r) for r in papers}


@pytest.mark.parametrize("shape", sorted(hostile_papers()))
def test_hostile_shapes_round_trip_through_the_real_client(shape: str) -> None:
    """LaTeX, HTML, many scripts, 10,000-character abstracts, old-style ids, empty author lists…
    survive the Atom feed, the `arxiv` client and our parser unchanged (whitespace aside)."""
    for original in hostile_papers()[shape]:
        with FakeArxivServer([original]) as fake:
            day = original.submitted_at.date()
            page = _source(fake).fetch_page(Window.for_days(day, day), [original.primary_category], 0)
        assert page.records == [_squashed(original)], shape


def test_empty_window_is_not_an_error(server: FakeArxivServer) -> None:
    window = Window.for_days(dt.date(2030, 1, 1), dt.date(2030, 1, 2))
    page = _source(server).fetch_page(window, ["cs.LG"], 0)
    assert (page.total, page.records) == (0, [])


def test_http_errors_are_retried_by_the_client(server: FakeArxivServer) -> None:
    server.inject("status", status=503, times=2)
    page = _source(server, num_retries=2).fetch_page(OCTOBER, ["cs.LG"], 0)
    assert len(page.records) == 10
    assert len(server.requests) == 3


def test_persistent_http_error_names_the_window(server: FakeArxivServer) -> None:
    server.inject("status", status=500, times=None)
    with pytest.raises(HarvestError) as caught:
        _source(server, num_retries=1).fetch_page(OCTOBER, ["cs.LG"], 10)
    message = str(caught.value)
    assert "2026-10-01 00:00–2026-10-31 23:59 UTC" in message
    assert "HTTP 500" in message
    assert "resume" in message
    assert len(server.requests) == 2  # the client's try plus its one retry, no more


@pytest.mark.parametrize("fault", ["truncated", "malformed", "html", "empty"])
def test_a_broken_page_is_retried(server: FakeArxivServer, fault: str) -> None:
    server.inject(fault, times=1)  # type: ignore[arg-type]
    page = _source(server).fetch_page(OCTOBER, ["cs.LG"], 0)
    assert [r.arxiv_id for r in page.records] == [f"2610.{i:05d}" for i in range(1, 11)]
    assert len(server.requests) == 2


@pytest.mark.parametrize("fault", ["truncated", "malformed"])
def test_a_persistently_broken_page_raises_harvest_error(server: FakeArxivServer, fault: str) -> None:
    server.inject(fault, times=None)  # type: ignore[arg-type]
    with pytest.raises(HarvestError, match=r"2026-10-01 00:00–2026-10-31 23:59 UTC"):
        _source(server).fetch_page(OCTOBER, ["cs.LG"], 0)
    assert len(server.requests) == 3  # one try and two retries


def test_a_slow_answer_times_out_and_is_retried(server: FakeArxivServer) -> None:
    server.inject("slow", delay=1.5, times=1)
    page = _source(server, timeout_seconds=0.3).fetch_page(OCTOBER, ["cs.LG"], 0)
    assert len(page.records) == 10
    assert len(server.requests) == 2


def test_one_shared_client_with_settings_applied() -> None:
    settings = load_settings(
        arxiv_api_url="http://127.0.0.1:9/api/query", arxiv_delay_seconds=0, arxiv_num_retries=4
    )
    source = ArxivSource.from_settings(settings)
    assert source.client.query_url_format == "http://127.0.0.1:9/api/query?{}"
    assert source.client.page_size == settings.arxiv_page_size >= 1000
    assert source.client.num_retries == 4
    assert ArxivSource.from_settings(load_settings()).client.delay_seconds >= 3


@pytest.mark.parametrize("categories", [[], ["cs.LG", "cat:x) OR (all:*"], ["'; DROP TABLE papers"]])
def test_bad_categories_are_refused_before_any_request(categories: list[str]) -> None:
    with pytest.raises(ValidationError):
        build_query(OCTOBER, categories)


def test_windows_split_into_covering_halves() -> None:
    left, right = OCTOBER.halves()
    assert left.first == OCTOBER.first
    assert right.last == OCTOBER.last
    assert right.first - left.last == dt.timedelta(minutes=1)
    one_minute = Window(OCT1, OCT1)
    assert not one_minute.splittable
    resumed = OCTOBER.starting_at(dt.datetime(2026, 10, 9, 12, 34, 56, tzinfo=dt.UTC))
    assert resumed.arxiv_range() == "[202610091234 TO 202610312359]"


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_the_real_arxiv_is_unreachable_from_tests() -> None:
    with socket.socket() as sock, pytest.raises(SocketConnectBlockedError):
        sock.connect(("export.arxiv.org", 443))
