"""Plain values the signal sources, the store and the refresh service pass around."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

SEMANTIC_SCHOLAR = "semantic_scholar"
HUGGINGFACE = "huggingface"
GITHUB = "github"
ALL_SOURCES = (SEMANTIC_SCHOLAR, HUGGINGFACE, GITHUB)
# A flag reading (1.0 = yes), not a count: kept out of the momentum values and their growth.
VENUE_KNOWN = "venue_known"


@dataclass(frozen=True, slots=True)
class PaperRef:
    """What a source needs to know about a stored paper."""

    paper_id: int
    arxiv_id: str
    submitted_at: dt.datetime
    code_url: str | None = None
    journal_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """One observed value, e.g. (paper 7, "semantic_scholar", "citations", 12.0)."""

    paper_id: int
    source: str
    name: str
    value: float

    @property
    def key(self) -> str:
        return f"{self.source}.{self.name}"


@dataclass(slots=True)
class SourceReport:
    """What one source did in a refresh. Papers are counted once each.

    requested = updated + unchanged + unknown + failed; skipped papers were never asked about
    (no usable id or repo, stars already known, or the source was given up part-way). `calls` counts
    the HTTP requests sent, retries included: what the run cost the source.
    """

    source: str
    requested: int = 0
    updated: int = 0  # at least one new reading stored
    unchanged: int = 0  # answered with the values already stored
    unknown: int = 0  # the source does not know the paper (or repo)
    failed: int = 0
    skipped: int = 0
    duration_seconds: float = 0.0
    calls: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    gave_up: str | None = None  # why the source was abandoned part-way, if it was

    def error_summary(self, limit: int = 3) -> str:
        """E.g. "HTTP 500 ×2; malformed JSON" — the most frequent reasons first."""
        parts = [
            reason if count == 1 else f"{reason} ×{count}" for reason, count in self.errors.most_common(limit)
        ]
        hidden = len(self.errors) - limit
        if hidden > 0:
            parts.append(f"{hidden} more")
        return "; ".join(parts)

    @property
    def failed_entirely(self) -> bool:
        """True when the source answered nothing usable: every paper asked failed, or it stopped first."""
        answered = self.updated + self.unchanged + self.unknown
        return answered == 0 and (self.failed > 0 or self.gave_up is not None)


@dataclass(slots=True)
class RefreshReport:
    months: list[str]
    papers: int = 0
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no source lost any paper to a failure."""
        return all(s.failed == 0 and s.gave_up is None for s in self.sources)

    @property
    def failed_sources(self) -> list[str]:
        """The sources that failed entirely (see `SourceReport.failed_entirely`)."""
        return [s.source for s in self.sources if s.failed_entirely]
