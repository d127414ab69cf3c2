"""Local HTTP servers standing in for Semantic Scholar, Hugging Face and GitHub, plus a fake clock.

Each server listens on 127.0.0.1 (port 0), records every request, answers from payloads under
`tests/data/signals/` (or added by a test), and serves injected faults first: a `Fault` with a
predicate (`when`) and a count (`times`, None = forever) replaces the normal answer for the requests
it matches — a 500 for one batch, a 429 with `Retry-After`, garbage JSON, a slow answer.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).resolve().parent.parent / "data" / "signals"


def load_payload(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    status: int = 500
    body: bytes | str = b'{"message": "Internal Server Error"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (to trigger client timeouts)
    when: Callable[[RecordedRequest], bool] = lambda _request: True
    times: int | None = 1  # None: every matching request


Answer = tuple[int, dict[str, str], bytes]


def json_answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(payload).encode(),
    )


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 that records requests and serves faults, then `answer()`."""

    base_path: ClassVar[str] = ""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._dispatch(self)

            def do_POST(self) -> None:
                owner._dispatch(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    # -- test controls -----------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def answer(self, request: RecordedRequest) -> Answer:
        raise NotImplementedError

    # -- plumbing ----------------------------------------------------------------------------

    def _take_fault(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.when(request):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        parts = urlsplit(handler.path)
        request = RecordedRequest(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
            status, headers = fault.status, {"Content-Type": "application/json", **fault.headers}
        else:
            status, headers, body = self.answer(request)
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


class FakeSemanticScholar(FakeServer):
    """`POST /graph/v1/paper/batch`: a list aligned with the ids, null for unknown ones."""

    base_path = "/graph/v1"
    batch_limit = 500

    def __init__(self) -> None:
        super().__init__()
        self.papers: dict[str, dict[str, Any]] = {}
        for record in load_payload("semantic_scholar_papers.json"):
            self.papers[record["externalIds"]["ArXiv"]] = record

    def add_paper(self, arxiv_id: str, citations: int, influential: int = 0) -> None:
        template = copy.deepcopy(next(iter(self.papers.values())))
        template["paperId"] = f"{abs(hash(arxiv_id)):040x}"[:40]
        template["externalIds"] = {"ArXiv": arxiv_id, "CorpusId": 270_000_000 + len(self.papers)}
        template["citationCount"] = citations
        template["influentialCitationCount"] = influential
        self.papers[arxiv_id] = template

    @property
    def batch_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == f"{self.base_path}/paper/batch"]

    def answer(self, request: RecordedRequest) -> Answer:
        if request.method != "POST" or request.path != f"{self.base_path}/paper/batch":
            return json_answer(404, {"error": "Not found"})
        try:
            ids = request.json()["ids"]
        except (ValueError, KeyError, TypeError):
            return json_answer(400, {"error": "Unacceptable request body"})
        if len(ids) > self.batch_limit:
            return json_answer(400, {"error": f"Batch size must be <= {self.batch_limit}"})
        answer = [self.papers.get(i.removeprefix("ARXIV:")) if isinstance(i, str) else None for i in ids]
        return json_answer(200, answer)


class FakeHuggingFace(FakeServer):
    """`GET /api/daily_papers?date=…&limit=…&p=…` (a day's listing, paged) and `GET /api/papers/{id}`.

    A paper is answered by `papers/{id}` once added; it appears in a day's listing once `list_on` puts
    it there (entries shaped like `huggingface_daily_papers.json`). Raw entries (any JSON) can be
    slipped into a listing to try hostile shapes. `limit` is capped at 100 like the real API.
    """

    base_path = "/api"
    max_limit = 100

    def __init__(self) -> None:
        super().__init__()
        self.papers: dict[str, Any] = {}
        self.listings: dict[str, list[Any]] = {}  # "YYYY-MM-DD" -> entries, or arXiv ids to wrap
        for name in ("huggingface_paper.json", "huggingface_paper_minimal.json"):
            payload = load_payload(name)
            self.papers[payload["id"]] = payload
        self._entry_template = load_payload("huggingface_daily_papers.json")[0]

    def add_paper(self, arxiv_id: str, *, listed_on: dt.date | None = None, **fields: Any) -> None:
        self.papers[arxiv_id] = {"id": arxiv_id, "title": f"Paper {arxiv_id}", **fields}
        if listed_on is not None:
            self.list_on(listed_on, arxiv_id)

    def list_on(self, day: dt.date, *arxiv_ids: str) -> None:
        """Feature these (added) papers on `day`; their current fields are served, as live upvotes."""
        self.listings.setdefault(day.isoformat(), []).extend(arxiv_ids)

    def add_raw_entry(self, day: dt.date, entry: Any) -> None:
        self.listings.setdefault(day.isoformat(), []).append(_Raw(entry))

    @property
    def listing_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == f"{self.base_path}/daily_papers"]

    @property
    def paper_requests(self) -> list[str]:
        prefix = f"{self.base_path}/papers/"
        return [r.path.removeprefix(prefix) for r in self.requests if r.path.startswith(prefix)]

    def _entry(self, item: Any) -> Any:
        if isinstance(item, _Raw):
            return item.payload
        entry = copy.deepcopy(self._entry_template)
        paper = self.papers[item]
        entry["paper"] = paper
        entry["title"] = paper.get("title")
        entry["thumbnail"] = f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{item}.png"
        return entry

    def answer(self, request: RecordedRequest) -> Answer:
        if request.method != "GET":
            return json_answer(405, {"error": "Method not allowed"})
        if request.path == f"{self.base_path}/daily_papers":
            return self._listing(request)
        prefix = f"{self.base_path}/papers/"
        arxiv_id = request.path.removeprefix(prefix)
        if request.path.startswith(prefix) and arxiv_id in self.papers:
            return json_answer(200, self.papers[arxiv_id])
        return json_answer(404, {"error": "Paper not found"})

    def _listing(self, request: RecordedRequest) -> Answer:
        day = request.query.get("date", [""])[0]
        try:
            dt.date.fromisoformat(day)
            limit = min(int(request.query.get("limit", ["50"])[0]), self.max_limit)
            page = int(request.query.get("p", ["0"])[0])
        except ValueError:
            return json_answer(400, {"error": "Invalid query parameters"})
        if limit < 1 or page < 0:
            return json_answer(400, {"error": "Invalid query parameters"})
        entries = [self._entry(item) for item in self.listings.get(day, [])]
        return json_answer(200, entries[page * limit : (page + 1) * limit])


@dataclass(frozen=True)
class _Raw:
    payload: Any


class FakeGitHub(FakeServer):
    """`GET /repos/{owner}/{repo}`: the repository's JSON (names case-insensitive), or 404."""

    def __init__(self) -> None:
        super().__init__()
        self.repos: dict[str, dict[str, Any]] = {}
        template = load_payload("github_repo.json")
        self.repos[template["full_name"].lower()] = template

    def add_repo(self, full_name: str, stars: int) -> None:
        payload = copy.deepcopy(next(iter(self.repos.values())))
        payload["full_name"] = full_name
        payload["name"] = full_name.split("/")[1]
        payload["stargazers_count"] = payload["watchers_count"] = stars
        self.repos[full_name.lower()] = payload

    @property
    def repo_requests(self) -> list[str]:
        return [r.path.removeprefix("/repos/") for r in self.requests]

    def answer(self, request: RecordedRequest) -> Answer:
        name = request.path.removeprefix("/repos/").lower()
        if request.method == "GET" and request.path.startswith("/repos/") and name in self.repos:
            return json_answer(200, self.repos[name])
        return json_answer(
            404,
            {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"},
        )


@contextmanager
def running(server: FakeServer) -> Iterator[FakeServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


class FakeClock:
    """A clock whose sleeps return at once and are recorded; time moves only when slept or advanced."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.start = start or dt.datetime(2026, 10, 28, 9, 0, tzinfo=dt.UTC)
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += max(seconds, 0.0)

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed)

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


def insert_papers(
    session_factory: Any,
    arxiv_ids: list[str],
    *,
    submitted_at: dt.datetime,
    code_urls: dict[str, str] | None = None,
    journal_refs: dict[str, str] | None = None,
) -> dict[str, int]:
    """Store minimal papers (one statement) and return their ids by arXiv id."""
    from sqlalchemy import insert, select

    from bot.db.models import Paper

    code_urls = code_urls or {}
    journal_refs = journal_refs or {}
    rows = [
        {
            "arxiv_id": arxiv_id,
            "version": 1,
            "title": f"Paper {arxiv_id}",
            "abstract": "An abstract.",
            "authors": ["Ada Example"],
            "authors_text": "Ada Example",
            "categories": ["cs.LG"],
            "primary_category": "cs.LG",
            "submitted_at": submitted_at + dt.timedelta(seconds=index),
            "updated_at": submitted_at,
            "abs_url": f"https://arxiv.org/abs/{arxiv_id}",
            "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}",
            "code_url": code_urls.get(arxiv_id),
            "journal_ref": journal_refs.get(arxiv_id),
        }
        for index, arxiv_id in enumerate(arxiv_ids)
    ]
    with session_factory() as session:
        if rows:
            session.execute(insert(Paper), rows)
        ids = dict(
            session.execute(select(Paper.arxiv_id, Paper.id).where(Paper.arxiv_id.in_(arxiv_ids))).all()
        )
        session.commit()
    return ids
