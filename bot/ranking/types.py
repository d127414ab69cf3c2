"""The ranking module's inputs and outputs: plain, immutable, platform- and storage-free."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper as the ranker sees it."""

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    primary_category: str
    submitted_at: dt.datetime
    comment: str | None = None
    journal_ref: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    paper_id: int | None = None
    # Latest momentum readings by "source.name" (e.g. "semantic_scholar.citations") and their growth
    # ("semantic_scholar.citations.growth"); empty when no source has been refreshed.
    signals: Mapping[str, float] = field(default_factory=dict)
    # Net 👍/👎 votes from chat feedback.
    votes: int = 0


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    description: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()  # arXiv base ids of example papers
    weight: float = 1.0
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ScoredPaper:
    candidate: Candidate
    score: float
    topic: str | None  # best-matching topic
    matched_terms: tuple[str, ...]
    components: Mapping[str, float]  # component name -> weighted contribution (for --explain)
    reason: str  # one line a reader understands: why this paper was picked
    # The priors component split by cue (before `RankingWeights.priors`), for --explain.
    prior_parts: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Selection:
    picks: list[ScoredPaper]
    others: list[ScoredPaper]
    ranked: list[ScoredPaper]  # every candidate, best first (for --explain and evaluation)
