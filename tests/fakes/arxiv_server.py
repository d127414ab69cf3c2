"""A fake arXiv API: a real HTTP server on 127.0.0.1 that answers like export.arxiv.org/api/query.

It serves Atom feeds rendered by `tests.fakes.arxiv_atom` from the `PaperRecord`s it holds, and understands
the parts of the API the harvester uses: `search_query` with an OR-group of `cat:` terms and a
`submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]` range, `start`, `max_results`, `sortBy` and
`sortOrder`. Every request is recorded. Faults can be queued to test resilience: an HTTP status
(500/503), an empty page that still reports the right total, a body cut off half-way (lxml recovers
it into a short page), a body that is not XML at all, an HTML error page, a slow answer, and
`raw_text`: the records' control characters and lone surrogates sent as a broken upstream would
(character references such as `&#1;` and `&#xD800;`, and invalid UTF-8 bytes; see
`tests.fakes.arxiv_atom`) instead of being left out. Records that no table can hold as they are
(`tests.paper_corpus.storage_hostile_papers`: over-long ids and categories, 10,000-character titles)
are served like any other.

Usage:
    with FakeArxivServer(records) as server:
        source = ArxivSource(api_url=server.url, ...)
        server.inject("status", status=503, times=2)
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, Self
from urllib.parse import parse_qs, urlsplit

from bot.paper_records import PaperRecord
from tests.fakes.arxiv_atom import encode_feed, render_feed

FaultKind = Literal["status", "empty", "truncated", "malformed", "html", "slow", "raw_text"]

_CATEGORY_TERM = re.compile(r"\bcat:([A-Za-z0-9.\-]+)")
_SUBMITTED_RANGE = re.compile(r"submittedDate:\[(\d{12}) TO (\d{12})\]")


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    search_query: str
    start: int
    max_results: int
    sort_by: str
    sort_order: str
    categories: tuple[str, ...]
    first: dt.datetime | None
    last: dt.datetime | None
    user_agent: str


@dataclass
class Fault:
    kind: FaultKind
    times: int | None  # None: for ever
    skip: int = 0  # requests served normally before this fault starts
    status: int = 503
    delay: float = 0.0
    served: int = field(default=0)


def _minute(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y%m%d%H%M").replace(tzinfo=dt.UTC)


class FakeArxivServer:
    def __init__(self, records: Iterable[PaperRecord] = ()) -> None:
        self._lock = threading.Lock()
        self._records: list[PaperRecord] = list(records)
        self._faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-arxiv", daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/query"

    # -- data and faults ---------------------------------------------------------------------------
    def set_records(self, records: Iterable[PaperRecord]) -> None:
        with self._lock:
            self._records = list(records)

    def add_records(self, records: Iterable[PaperRecord]) -> None:
        with self._lock:
            self._records.extend(records)

    def inject(
        self,
        kind: FaultKind,
        *,
        times: int | None = 1,
        skip: int = 0,
        status: int = 503,
        delay: float = 1.0,
    ) -> Fault:
        """Queue a fault for the next `times` requests (None: all) after `skip` normal ones."""
        fault = Fault(kind=kind, times=times, skip=skip, status=status, delay=delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- the API -----------------------------------------------------------------------------------
    def matching(self, query: str, sort_by: str, sort_order: str) -> list[PaperRecord]:
        categories = set(_CATEGORY_TERM.findall(query))
        span = _SUBMITTED_RANGE.search(query)
        with self._lock:
            records = list(self._records)
        if categories:
            records = [r for r in records if categories.intersection(r.categories)]
        if span:
            first, last = _minute(span.group(1)), _minute(span.group(2))
            records = [r for r in records if first <= r.submitted_at.replace(second=0, microsecond=0) <= last]
        if sort_by in ("submittedDate", "lastUpdatedDate"):
            key = "submitted_at" if sort_by == "submittedDate" else "updated_at"
            records.sort(key=lambda r: (getattr(r, key), r.arxiv_id), reverse=sort_order == "descending")
        return records

    def _next_fault(self) -> Fault | None:
        with self._lock:
            while self._faults:
                fault = self._faults[0]
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                if fault.times is not None and fault.served >= fault.times:
                    self._faults.pop(0)
                    continue
                fault.served += 1
                return fault
        return None

    def _answer(self, path: str, user_agent: str) -> tuple[int, str, bytes, float]:
        """(status, content type, body, delay before answering) for one GET."""
        parts = urlsplit(path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        query = params.get("search_query", "")
        try:
            start = int(params.get("start", "0"))
            max_results = int(params.get("max_results", "10"))
        except ValueError:
            return 400, "text/plain", b"start and max_results must be integers", 0.0
        sort_by = params.get("sortBy", "relevance")
        sort_order = params.get("sortOrder", "descending")
        span = _SUBMITTED_RANGE.search(query)
        self.requests.append(
            RecordedRequest(
                path=parts.path,
                search_query=query,
                start=start,
                max_results=max_results,
                sort_by=sort_by,
                sort_order=sort_order,
                categories=tuple(_CATEGORY_TERM.findall(query)),
                first=_minute(span.group(1)) if span else None,
                last=_minute(span.group(2)) if span else None,
                user_agent=user_agent,
            )
        )
        if parts.path != "/api/query":
            return 404, "text/plain", b"not found", 0.0
        fault = self._next_fault()
        if fault is not None and fault.kind == "status":
            return fault.status, "text/plain", b"Service temporarily unavailable", 0.0
        if fault is not None and fault.kind == "malformed":
            return 200, "application/atom+xml", b"\x00\x01 this is <<not xml", 0.0
        if fault is not None and fault.kind == "html":
            return 200, "text/html", b"<html><body><h1>Rate exceeded</h1></body></html>", 0.0

        matches = self.matching(query, sort_by, sort_order)
        page: Sequence[PaperRecord] = matches[start : start + max_results]
        if fault is not None and fault.kind == "empty":
            page = []
        raw = fault is not None and fault.kind == "raw_text"
        body = encode_feed(
            render_feed(
                page, total=len(matches), start=start, items_per_page=max_results, query=query, raw=raw
            )
        )
        if fault is not None and fault.kind == "truncated":
            body = body[: len(body) * 2 // 3]
        delay = fault.delay if fault is not None and fault.kind == "slow" else 0.0
        return 200, "application/atom+xml; charset=utf-8", body, delay

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, content_type, body, delay = fake._answer(
                    self.path, self.headers.get("User-Agent", "")
                )
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a slow-answer fault)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        return Handler


def make_records(
    count: int,
    *,
    first: dt.datetime,
    spacing: dt.timedelta = dt.timedelta(minutes=7),
    categories: Sequence[str] = ("cs.LG",),
    id_prefix: str = "2610",
    version: int = 1,
) -> list[PaperRecord]:
    """`count` plausible papers submitted `spacing` apart from `first`, ids `<prefix>.00001`…"""
    records = []
    for i in range(count):
        submitted = first + spacing * i
        records.append(
            PaperRecord(
                arxiv_id=f"{id_prefix}.{i + 1:05d}",
                version=version,
                title=f"Paper {i + 1}: scaling laws for sparse mixture-of-experts, part {i % 7}",
                abstract=f"We study model {i + 1}. Code: https://github.com/lab/paper-{i + 1}.",
                authors=(f"Ada Lovelace {i}", "Alan Turing", "Grace Hopper"),
                categories=tuple(categories),
                primary_category=categories[0],
                submitted_at=submitted,
                updated_at=submitted + dt.timedelta(hours=version - 1),
                comment="12 pages, 3 figures",
            )
        )
    return records
