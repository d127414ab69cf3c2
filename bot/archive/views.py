"""What the archive services return: frozen, platform-free dataclasses (never ORM objects).

The Slack and Discord adapters and the CLI render these; nothing here knows about a chat platform
beyond the opaque ids a `ThreadRef` carries so an adapter can build a link to a posted digest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.digest.views import DigestView, Links


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """Where a digest was posted: enough for an adapter to build a permalink.

    `message_id` is the thread's parent message (Slack `ts`, Discord message id); `paper_message_id`
    is the reply about this very paper when the delivery recorded one.
    """

    platform: str  # slack | discord
    workspace_id: str
    channel_id: str
    message_id: str
    thread_id: str | None = None
    paper_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeaturedIn:
    """A published digest that featured the paper."""

    month: str  # "2026-10"
    digest_title: str
    section: str  # pick | other
    threads: tuple[ThreadRef, ...] = ()
    audience: str = "default"  # whose digest it was (bot.audiences)

    @property
    def thread(self) -> ThreadRef | None:
        return self.threads[0] if self.threads else None

    def thread_for(self, platform: str, workspace_id: str) -> ThreadRef | None:
        """The delivery in the asker's own workspace, if the digest was posted there."""
        for ref in self.threads:
            if ref.platform == platform and ref.workspace_id == workspace_id:
                return ref
        return None


@dataclass(frozen=True, slots=True)
class PaperHit:
    arxiv_id: str
    title: str
    authors_short: str
    month: str  # month the paper was submitted, "2026-10"
    submitted_at: dt.datetime
    links: Links
    reason: str  # one line, e.g. "matches: diffusion, video · featured in October 2026"
    score: float  # final score (relevance × recency boost), comparable within one result only
    matched_terms: tuple[str, ...] = ()
    featured: FeaturedIn | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    hits: tuple[PaperHit, ...]
    page: int
    page_size: int
    has_more: bool
    total_estimate: int | None  # exact when known cheaply, else None ("many")
    message: str = ""  # friendly text for an empty result or a note about the query
    suggestions: tuple[str, ...] = ()  # queries to try next, each runnable as typed
    advice: str = ""  # a sentence of advice when no broader query matches ("Try a more general word…")
    notes: tuple[str, ...] = ()  # how the query was read (unknown topic, ignored month, …)

    @property
    def featured_hits(self) -> tuple[PaperHit, ...]:
        return tuple(hit for hit in self.hits if hit.featured is not None)

    @property
    def archive_hits(self) -> tuple[PaperHit, ...]:
        return tuple(hit for hit in self.hits if hit.featured is None)

    @property
    def is_empty(self) -> bool:
        return not self.hits


@dataclass(frozen=True, slots=True)
class TrendPoint:
    month: str
    count: int  # papers matching the query
    total: int  # all papers that month
    share: float  # count / total (0 when the month has no papers)


@dataclass(frozen=True, slots=True)
class TrendChange:
    """The last `months` months against the `months` before them."""

    months: int
    recent: int
    previous: int
    absolute: int
    percent: float | None  # None when the previous period had no matches
    recent_share: float
    previous_share: float


@dataclass(frozen=True, slots=True)
class TrendView:
    query: str
    points: tuple[TrendPoint, ...]
    change: TrendChange
    message: str = ""
    notes: tuple[str, ...] = ()

    @property
    def first_month(self) -> str:
        return self.points[0].month

    @property
    def last_month(self) -> str:
        return self.points[-1].month

    @property
    def total_matches(self) -> int:
        return sum(point.count for point in self.points)


@dataclass(frozen=True, slots=True)
class ExamplePaper:
    arxiv_id: str
    title: str
    abs_url: str


@dataclass(frozen=True, slots=True)
class EmergingTerm:
    term: str
    count: int  # papers this month containing the term
    previous_monthly: float  # average papers per month containing it over the lookback months
    share: float  # share of this month's papers
    previous_share: float
    growth: float  # share ratio (smoothed): 3.0 means three times as common as before
    examples: tuple[ExamplePaper, ...] = ()


@dataclass(frozen=True, slots=True)
class TrendingView:
    month: str
    lookback: int
    papers: int  # papers in the month
    previous_papers: int  # papers in the lookback months
    terms: tuple[EmergingTerm, ...]
    message: str = ""
    sampled: bool = False  # counts were estimated from a sample of a very large period


@dataclass(frozen=True, slots=True)
class IssueSummary:
    month: str
    title: str
    status: str  # draft | published
    picks: int
    published_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class IssueView:
    """A past digest (the digest module's own view) and where it was posted."""

    digest: DigestView
    threads: tuple[ThreadRef, ...] = ()

    @property
    def month(self) -> str:
        return self.digest.month

    @property
    def title(self) -> str:
        return self.digest.title
