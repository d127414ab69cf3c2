"""Offline quality priors and stored momentum: signals about a paper that do not depend on the topics.

Priors are generic cues read from the paper itself and from its month: how many authors (log scale),
how many papers its most prolific author has this month (senior authors of large groups), a concise
title, a named system in the title ("Name: what it does"),
released code/weights, a model scale ("7B", "billion parameters"), a frontier model named in the
text, the best topic's phrases in the title, and a venue or acceptance in the comment/journal
reference. The prior is a linear sum of these
cues with `PRIOR_COEFFICIENTS`, in the same units as the relevance component (relevance counts 1).
Every cue but the venue was fitted by logistic regression on the labelled development months (see
`bot.ranking.learn` and docs/ranking.md); the venue weight is set by hand because the labelled pools
carry no comments. Every part shows in `explain`.

Momentum turns the stored readings of `Candidate.signals` (citations, upvotes, stars and their growth)
into within-month percentiles, so an old paper's larger raw counts do not win; a paper with no
readings scores 0.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

from bot.ranking.corpus import Corpus, FloatArray
from bot.ranking.types import Candidate

# Each cue's weight in the cue ranker (`rank_month(…, model=None)`; the default learned model has its
# own coefficients in model.json), in relevance units. Fitted in round 3 (`learn.fit_prior_coefficients`,
# then run by bench/rank_eval.py --fit, see git history): an L2
# logistic regression (C=0.01, each month's positives weighted equally) of "picked/popular" on the
# relevance component and the cues below, over all three labelled months (2025-04 and 2025-05 picks,
# 2021-06 extended_ranked), divided by the relevance coefficient. Leave-one-month-out results are in
# docs/ranking.md. "venue" is not fitted (the labelled pools have no comments): set by hand.
PRIOR_COEFFICIENTS: dict[str, float] = {
    "authors": 0.926,
    "author_output": 0.116,
    "concise": 0.167,
    "named": 0.245,
    "release": 0.385,
    "scale": 1.298,
    "frontier": 0.466,
    "title_topic": 0.372,
    "venue": 0.5,
}
LEARNED_CUES = (
    "authors",
    "author_output",
    "concise",
    "named",
    "release",
    "scale",
    "frontier",
    "title_topic",
)
CONCISE_REFERENCE_WORDS = 12  # "concise" is 12 − title words (capped at 30): + for short, − for long

_VENUES = (
    "NeurIPS|NIPS|ICML|ICLR|CVPR|ICCV|ECCV|ACL|EMNLP|NAACL|EACL|COLING|AAAI|IJCAI|KDD|SIGIR|WSDM|WWW|"
    "CoRL|ICRA|IROS|RSS|COLM|TMLR|JMLR|UAI|AISTATS|MICCAI|Interspeech|ICASSP|TPAMI|IJCV|3DV|WACV|BMVC|"
    "MLSys|Nature|Science"
)
_VENUE = re.compile(
    rf"\b(?P<venue>{_VENUES})\b(?:[\s'’-]*(?P<year>(?:19|20)\d\d|'?\d\d)\b)?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CANONICAL_VENUE = {v.casefold(): v for v in _VENUES.split("|")}
_ACCEPTED = re.compile(
    r"\b(accepted|to appear|published|camera[- ]ready|oral|spotlight|in proceedings)\b", re.IGNORECASE
)
_TENTATIVE = re.compile(r"\b(submitted|under review|in submission|preprint)\b", re.IGNORECASE)
_WORKSHOP = re.compile(r"\bworkshops?\b", re.IGNORECASE)
_CODE_IN_TEXT = re.compile(
    r"github\.com|gitlab\.com|huggingface\.co|code (?:is|are|will be) (?:publicly )?(?:available|released)"
    r"|project page|our code|code and (?:data|models)|open[- ]source",
    re.IGNORECASE,
)
# Abstract phrases that announce released code, matched on the shared tokens (no per-paper regex).
_CODE_PHRASES = (
    "github com",
    "huggingface co",
    "code is available",
    "code will be available",
    "code is publicly available",
    "code and data",
    "code and model",
    "project page",
    "our code",
    "open source",
    "we release",
    "publicly release",
)
# Words (after tokenising and folding) that state a model's scale: "7B", "1.5B" → "5b", "billion".
_SCALE_WORD = re.compile(r"^(?:\d+[bm]|billion|trillion)$")
# Frontier model families: papers that build on or compare with them are about current LLMs.
_FRONTIER_WORDS = ("gpt", "chatgpt", "claude", "gemini", "deepseek", "llama", "qwen", "mistral", "o1", "o3")
_KIND = re.compile(r"\b(survey|benchmark|dataset|technical report|a review|tutorial)\b", re.IGNORECASE)
# A title without one of these (folded) words cannot match `_KIND`: the month skips the regex for it.
_KIND_WORDS = ("survey", "benchmark", "dataset", "report", "review", "tutorial")
# "Name: what it does" with a short coined name, the usual form of papers that introduce a system.
_NAMED_TITLE = re.compile(r"^\s*[\w][\w.+\-]*(?:[ -][\w.+\-]+){0,2}\s*[:—]\s+\S")


@dataclass(frozen=True, slots=True)
class PriorNotes:
    """Why a paper got its prior, in words."""

    values: dict[str, float]
    notes: tuple[str, ...]


def venue_note(candidate: Candidate) -> tuple[float, str | None]:
    """Score and phrase for a venue named in the comment or journal reference."""
    if not candidate.comment and not candidate.journal_ref:
        return 0.0, None  # most papers: no string work at all
    text = " ".join(part for part in (candidate.comment, candidate.journal_ref) if part)
    match = _VENUE.search(text)
    if match is None:
        return (0.3, "published in a journal") if candidate.journal_ref else (0.0, None)
    venue = _CANONICAL_VENUE.get(match.group("venue").casefold(), match.group("venue"))
    year = match.group("year")
    if not year:
        anywhere = _YEAR.search(text)
        year = anywhere.group(0) if anywhere else None
    if year and len(year.strip("'")) == 2:
        year = "20" + year.strip("'")
    label = f"{venue} {year}" if year else venue
    if _WORKSHOP.search(text):
        return 0.4, f"{label} workshop"
    if _TENTATIVE.search(text) and not _ACCEPTED.search(text):
        return 0.15, f"submitted to {label}"
    if _ACCEPTED.search(text) or year or candidate.journal_ref:
        return 1.0, f"accepted at {label}"
    return 0.6, f"mentions {label}"


def authors_value(count: int) -> float:
    """log(1 + authors): each doubling of the team adds about the same. Large teams (labs shipping a
    model or a system) are among the strongest offline signals measured."""
    return math.log1p(count)


def author_output_value(papers_by_most_prolific_author: int) -> float:
    """log(1 + this month's papers by the paper's most prolific author): a senior author of a large
    group signs many papers a month. Name clashes ("Wei Wang") inflate it a little; it stays a weak
    cue, fitted like the others."""
    return math.log1p(papers_by_most_prolific_author)


def author_outputs(candidates: Sequence[Candidate]) -> list[int]:
    """Per paper, how many papers of `candidates` its most prolific author signed (0 without authors)."""
    counts = Counter(chain.from_iterable(dict.fromkeys(c.authors) for c in candidates))
    return [max(map(counts.__getitem__, c.authors), default=0) for c in candidates]


def concise_value(title: str) -> float:
    """Positive for titles shorter than 12 words, negative for longer ones (capped at 30 words)."""
    return float(CONCISE_REFERENCE_WORDS - min(len(title.split()), 30))


def paper_notes(
    candidate: Candidate,
    code_in_abstract: bool | None = None,
    *,
    scale: bool = False,
    frontier: bool = False,
    title_topic: float = 0.0,
    author_output: int = 0,
    kind_in_title: bool = True,
) -> PriorNotes:
    """The prior cues of one paper (`values`) and the phrases that explain them (`notes`).

    Cues read from the abstract's tokens (code, scale, frontier) or from the whole month (the most
    prolific author's paper count) are passed in by `priors`, which finds them for the month at once;
    `code_in_abstract=None` falls back to a regex. `kind_in_title=False` says the title has none of
    the paper-kind words, so the kind regex is skipped."""
    notes: list[str] = []
    if code_in_abstract is None:
        code_in_abstract = bool(_CODE_IN_TEXT.search(candidate.abstract))
    has_code = bool(
        candidate.code_url
        or candidate.project_url
        or code_in_abstract
        or (candidate.comment and _CODE_IN_TEXT.search(candidate.comment))
    )
    if has_code:
        notes.append("code released" if candidate.code_url or code_in_abstract else "project page")
    venue, venue_label = venue_note(candidate)
    if venue_label:
        notes.append(venue_label)
    n_authors = len(candidate.authors)
    if n_authors >= 10:
        notes.append(f"{n_authors} authors")
    if scale:
        notes.append("states model scale")
    kind = _KIND.search(candidate.title) if kind_in_title else None
    if kind:
        notes.append(f"{kind.group(1).lower()} paper")
    values = {
        "authors": authors_value(n_authors),
        "author_output": author_output_value(author_output),
        "concise": concise_value(candidate.title),
        "named": 1.0 if _NAMED_TITLE.match(candidate.title) else 0.0,
        "release": 1.0 if has_code else 0.0,
        "scale": 1.0 if scale else 0.0,
        "frontier": 1.0 if frontier else 0.0,
        "title_topic": title_topic,
        "venue": venue,
    }
    return PriorNotes(values=values, notes=tuple(notes))


def prior_parts(values: Mapping[str, float], coefficients: Mapping[str, float]) -> dict[str, float]:
    """Each cue's contribution (coefficient × value), for the score and for `explain`."""
    return {name: coefficients.get(name, 0.0) * value for name, value in values.items()}


def _any_word(corpus: Corpus, columns: Sequence[int], *, title: bool = False) -> npt.NDArray[np.bool_]:
    if not columns:
        return np.zeros(corpus.n_docs, dtype=bool)
    matrix = corpus.title_counts if title else corpus.counts
    return np.asarray(matrix[:, list(columns)].sum(axis=1)).ravel() > 0


def priors(
    candidates: Sequence[Candidate],
    corpus: Corpus,
    title_topic: FloatArray | None = None,
    coefficients: Mapping[str, float] | None = None,
) -> tuple[FloatArray, list[PriorNotes], dict[str, FloatArray], dict[str, FloatArray]]:
    """Prior per candidate (the first `len(candidates)` papers of `corpus`), each paper's notes, each
    cue's per-paper contribution and each cue's raw per-paper value (what the coefficients were
    fitted on). `title_topic` is the best topic's title-phrase score."""
    notes, month = month_cues(candidates, corpus)
    total, parts, cues = combine_priors(month, title_topic, coefficients)
    return total, notes, parts, cues


def month_cues(
    candidates: Sequence[Candidate], corpus: Corpus
) -> tuple[list[PriorNotes], dict[str, FloatArray]]:
    """Each paper's notes and raw cue values, but "title_topic" (0 here): everything of the priors
    that does not depend on the topics, so a month computes it once for every audience."""
    n = len(candidates)
    code_mentions = np.zeros(corpus.n_docs)
    for phrase in _CODE_PHRASES:
        code_mentions += corpus.phrase_counts(phrase)[0]
    scale_columns = [i for w, i in corpus.vocabulary.items() if _SCALE_WORD.match(w)]
    frontier_columns = [corpus.vocabulary[w] for w in _FRONTIER_WORDS if w in corpus.vocabulary]
    kind_columns = [corpus.vocabulary[w] for w in _KIND_WORDS if w in corpus.vocabulary]
    scale = _any_word(corpus, scale_columns)
    frontier = _any_word(corpus, frontier_columns)
    kind_in_title = _any_word(corpus, kind_columns, title=True)
    outputs = author_outputs(candidates)
    notes = [
        paper_notes(
            c,
            bool(code_mentions[i] > 0),
            scale=bool(scale[i]),
            frontier=bool(frontier[i]),
            author_output=outputs[i],
            kind_in_title=bool(kind_in_title[i]),
        )
        for i, c in enumerate(candidates)
    ]
    cues = {
        name: np.fromiter((note.values[name] for note in notes), dtype=np.float64, count=n)
        for name in PRIOR_COEFFICIENTS
    }
    return notes, cues


def combine_priors(
    month: Mapping[str, FloatArray],
    title_topic: FloatArray | None = None,
    coefficients: Mapping[str, float] | None = None,
) -> tuple[FloatArray, dict[str, FloatArray], dict[str, FloatArray]]:
    """(prior per paper, each cue's contribution, each cue's value) from `month_cues`' values and the
    best topic's title-phrase score."""
    coefficients = PRIOR_COEFFICIENTS if coefficients is None else coefficients
    n = len(next(iter(month.values()))) if month else 0
    cues = dict(month)
    cues["title_topic"] = np.zeros(n) if title_topic is None else np.asarray(title_topic, dtype=np.float64)
    parts = {name: coefficients.get(name, 0.0) * values for name, values in cues.items()}
    total = np.sum(list(parts.values()), axis=0) if n else np.zeros(0)
    return np.asarray(total, dtype=np.float64).reshape(n), parts, cues


def momentum(
    candidates: Sequence[Candidate], skip: Collection[str] = ()
) -> tuple[FloatArray, list[tuple[str, ...]]]:
    """Mean within-month percentile over the signal names seen this month (but `skip`); 0 without
    readings.

    A percentile is the share of papers with that reading at or below this one, so the month's most
    cited paper scores 1.0 whatever its absolute count; a zero reading scores 0.
    """
    n = len(candidates)
    names = sorted({name for c in candidates for name in c.signals if name not in skip})
    result = np.zeros(n)
    strong: list[list[str]] = [[] for _ in range(n)]
    for name in names:
        holders = [i for i, c in enumerate(candidates) if name in c.signals]
        raw = np.array([float(candidates[i].signals[name]) for i in holders])
        raw = np.where(np.isfinite(raw), raw, 0.0)
        order = np.sort(raw)
        at_or_below = np.searchsorted(order, raw, side="right")
        percentile = np.where(raw > 0, at_or_below / len(raw), 0.0)
        result[holders] += percentile
        for i, pct in zip(holders, percentile, strict=True):
            if pct >= 0.9 and len(holders) >= 2:
                # "semantic_scholar.citations.growth" -> "citations growth"
                strong[i].append(name.split(".", 1)[-1].replace(".", " "))
    if names:
        result /= len(names)
    return result, [tuple(s) for s in strong]


def feedback(candidates: Sequence[Candidate]) -> FloatArray:
    """Net chat votes squashed to (-1, 1): a few votes matter, a brigade cannot dominate."""
    return np.tanh(np.array([c.votes for c in candidates], dtype=np.float64) / 3.0)
