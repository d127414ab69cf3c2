"""The ranking module's inputs and outputs: plain, immutable, platform- and storage-free."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload


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
    # With the learned model: each feature's contribution to the score (log-odds against an average
    # training paper, after its group's weight), and the title's most weighted words with their weight.
    contributions: Mapping[str, float] = field(default_factory=dict)
    title_words: tuple[tuple[str, float], ...] = ()


class Ranking(Sequence[ScoredPaper]):
    """Every candidate best first, each `ScoredPaper` built the first time it is read.

    A digest reads a few dozen of a month's papers, and building all 25,000 (their reason strings and
    component dicts) cost more than the selection itself. Reads behave like a list's: indexing, slicing
    (a list), iteration, `len`, `==` with any sequence; a paper read twice is the same object, so the
    picks are the very objects found in the ranking.
    """

    __slots__ = ("_build", "_built", "_order")

    def __init__(self, order: Sequence[int], build: Callable[[int], ScoredPaper]) -> None:
        self._order = order  # row of each rank
        self._build = build  # row -> its ScoredPaper
        self._built: list[ScoredPaper | None] = [None] * len(order)

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> ScoredPaper: ...

    @overload
    def __getitem__(self, index: slice) -> list[ScoredPaper]: ...

    def __getitem__(self, index: int | slice) -> ScoredPaper | list[ScoredPaper]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        paper = self._built[index]  # raises IndexError like a list, negative indices included
        if paper is None:
            paper = self._built[index] = self._build(self._order[index])
        return paper

    def __iter__(self) -> Iterator[ScoredPaper]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __repr__(self) -> str:
        return f"Ranking({len(self)} papers)"


@dataclass(frozen=True, slots=True)
class Selection:
    picks: list[ScoredPaper]
    others: list[ScoredPaper]
    ranked: Sequence[ScoredPaper]  # every candidate, best first (for --explain and evaluation): a Ranking
    notes: tuple[str, ...] = ()  # about the ranking as a whole, for --explain (e.g. the team votes model)
