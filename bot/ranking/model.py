"""The learned ranker: what `rank_month` scores papers with by default, and its shipped artefact.

A paper's score is a regularised logistic regression's log-odds that a curator picks it, over
features the ranker computes for any month at run time (`model_inputs`):

- topic relevance (BM25 of the team's topic phrases) and the topic phrases in the title;
- generic cues of `priors` (team size, the most prolific author's output this month, title length,
  "Name: …" titles, released code, model scale, frontier models named);
- arXiv categories (primary category, number of cross-lists);
- whether the paper has an abstract, and the abstract-dependent cues again *where it has one*, so a
  listing without abstracts (or a paper whose abstract is missing) is scored by what it does have;
- title words and abstract words (presence; abstract words only where a paper has an abstract),
  restricted to words common across many months, so no single paper is named by the model;
- momentum: where a month has Hugging Face upvotes (`Candidate.signals["huggingface.upvotes"]`), the
  within-month upvote percentile and "featured there at all". They are fitted together with the rest
  (0 in months without readings, where a constant ranks nothing); a month without any reading (a
  fresh deployment) is scored without them, by the other features' coefficients alone.

`bench/rank_fit.py` fits the model on the labelled months (`learn.fit_model`) and writes
`model.json` beside this module; `load_model()` reads it once, on first use. Every feature's
contribution to a paper's score (coefficient × (value − training mean)) is kept for `explain`.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from bot.errors import ConfigError
from bot.ranking.corpus import Corpus, FloatArray, words
from bot.ranking.types import Candidate

SHIPPED_PATH = Path(__file__).with_name("model.json")
UPVOTES = "huggingface.upvotes"  # the signal key the bot stores for Hugging Face Daily Papers
FORMAT = 1

PRIMARY_CATEGORIES = ("cs.CL", "cs.LG", "cs.CV", "cs.AI", "cs.RO")
# Cues read from the abstract as well as the title: again as "… where an abstract exists".
ABSTRACT_DEPENDENT = ("relevance", "release", "scale", "frontier")
DENSE_FEATURES: tuple[str, ...] = (
    "relevance",
    "title_topic",
    "authors",
    "no_authors",
    "author_output",
    "concise",
    "named",
    "release",
    "scale",
    "frontier",
    "cross_lists",
    *(f"primary {c}" for c in PRIMARY_CATEGORIES),
    "has_abstract",
    *(f"{name} (abstract)" for name in ABSTRACT_DEPENDENT),
    "relevance rank",
    "authors rank",
)
MOMENTUM_FEATURES = ("upvotes_percentile", "upvoted")
# Which `explain`/`components` group each feature's contribution belongs to.
GROUP = {
    "relevance": "relevance",
    "relevance (abstract)": "relevance",
    "relevance rank": "relevance",
    "title_topic": "relevance",
    **dict.fromkeys(MOMENTUM_FEATURES, "momentum"),
}
TITLE_WORDS = "title words"
ABSTRACT_WORDS = "abstract words"

FEATURE_HELP = {
    "relevance": "BM25 of the best topic's phrases × topic weight",
    "title_topic": "topic phrases in the title",
    "authors": "log(1 + number of authors)",
    "no_authors": "no author list",
    "author_output": "log(1 + this month's papers by its most prolific author)",
    "concise": "12 − title words",
    "named": 'named system in the title ("Name: …")',
    "release": "code, weights or a project page released",
    "scale": 'states a model scale ("7B")',
    "frontier": "names a frontier model family",
    "cross_lists": "log(1 + arXiv categories)",
    "has_abstract": "the paper has an abstract",
    "relevance rank": "topic relevance, share of the month below",
    "authors rank": "number of authors, share of the month below",
    "upvotes_percentile": "Hugging Face upvotes, percentile within the month",
    "upvoted": "featured on Hugging Face Daily Papers",
    TITLE_WORDS: "title words the curators' picks used more (or less) than other papers",
    ABSTRACT_WORDS: "abstract words the curators' picks used more (or less) than other papers",
}


@dataclass(frozen=True)
class ModelInputs:
    """Every model feature of a month's papers, as the ranker computes them at run time."""

    dense: dict[str, FloatArray]  # DENSE_FEATURES name -> value per paper
    momentum: dict[str, FloatArray]  # MOMENTUM_FEATURES name -> value per paper
    has_upvotes: bool  # some paper of the month has an upvote reading
    title_words: sparse.csr_matrix  # papers × corpus vocabulary: 1 where the title has the word
    vocabulary: Mapping[str, int]  # the corpus vocabulary (folded word -> column)
    abstract_words: sparse.csr_matrix | None = None  # the same for the abstract (None: no abstracts)

    @property
    def n(self) -> int:
        return int(self.title_words.shape[0])


def upvote_features(candidates: Sequence[Candidate]) -> tuple[dict[str, FloatArray], bool]:
    """Within-month percentile of the upvote reading (the share of readings at or below it; 0 without
    one) and whether a paper has a reading at all. Percentiles, because the archives' counts are
    early and differ between months; absence means "not featured", which is informative."""
    n = len(candidates)
    holders = [i for i, c in enumerate(candidates) if UPVOTES in c.signals]
    percentile, upvoted = np.zeros(n), np.zeros(n)
    if holders:
        raw = np.array([float(candidates[i].signals[UPVOTES]) for i in holders])
        raw = np.where(np.isfinite(raw), np.maximum(raw, 0.0), 0.0)
        at_or_below = np.searchsorted(np.sort(raw), raw, side="right")
        percentile[holders] = at_or_below / len(raw)
        upvoted[holders] = 1.0
    return {"upvotes_percentile": percentile, "upvoted": upvoted}, bool(holders)


def month_rank(values: FloatArray) -> FloatArray:
    """The share of the month's papers strictly below each value (0 for the lowest, e.g. no match)."""
    if values.size == 0:
        return np.zeros(0)
    ranked: FloatArray = np.searchsorted(np.sort(values), values, side="left") / values.size
    return ranked


@dataclass(frozen=True)
class MonthInputs:
    """The model features that do not depend on the topics: computed once per month and shared by
    every audience's ranking (`rank.prepare_month`)."""

    dense: dict[str, FloatArray]  # the DENSE_FEATURES that are neither relevance nor title_topic
    momentum: dict[str, FloatArray]
    has_upvotes: bool
    title_words: sparse.csr_matrix
    vocabulary: Mapping[str, int]
    abstract_words: sparse.csr_matrix | None


def month_inputs(
    candidates: Sequence[Candidate], corpus: Corpus, cues: Mapping[str, FloatArray]
) -> MonthInputs:
    """The topic-independent features of the first `len(candidates)` papers of `corpus`; `cues` are
    `priors.month_cues`' values (their "title_topic" is not read)."""
    n = len(candidates)
    has_abstract = np.fromiter((bool(c.abstract.strip()) for c in candidates), dtype=np.float64, count=n)
    primary = [c.primary_category for c in candidates]
    dense: dict[str, FloatArray] = {
        "authors": cues["authors"],
        "no_authors": np.fromiter((not c.authors for c in candidates), dtype=np.float64, count=n),
        "author_output": cues["author_output"],
        "concise": cues["concise"],
        "named": cues["named"],
        "release": cues["release"],
        "scale": cues["scale"],
        "frontier": cues["frontier"],
        "cross_lists": np.fromiter(
            (math.log1p(len(c.categories)) for c in candidates), dtype=np.float64, count=n
        ),
        **{
            f"primary {name}": np.fromiter((p == name for p in primary), dtype=np.float64, count=n)
            for name in PRIMARY_CATEGORIES
        },
        "has_abstract": has_abstract,
    }
    for name in ABSTRACT_DEPENDENT:
        if name != "relevance":
            dense[f"{name} (abstract)"] = dense[name] * has_abstract
    dense["authors rank"] = month_rank(dense["authors"])
    momentum, has_upvotes = upvote_features(candidates)
    titles = sparse.csr_matrix(corpus.title_counts[:n])
    titles.data = np.ones_like(titles.data, dtype=np.float64)
    abstracts = None
    if has_abstract.any():
        # Words of the abstract: all occurrences minus the title's (the counts keep both apart).
        abstracts = sparse.csr_matrix(corpus.counts[:n]) - sparse.csr_matrix(corpus.title_counts[:n])
        abstracts.data = (abstracts.data > 0).astype(np.float64)
        abstracts.eliminate_zeros()
    return MonthInputs(
        dense=dense,
        momentum=momentum,
        has_upvotes=has_upvotes,
        title_words=titles,
        vocabulary=corpus.vocabulary,
        abstract_words=abstracts,
    )


def model_inputs(
    candidates: Sequence[Candidate],
    corpus: Corpus,
    relevance: FloatArray,
    cues: Mapping[str, FloatArray],
    month: MonthInputs | None = None,
) -> ModelInputs:
    """Features of the first `len(candidates)` papers of `corpus`. `relevance` is the best topic's
    relevance × its topic weight; `cues` are `priors.priors`' raw cue values. `month` is
    `month_inputs` of the same papers, when it was computed once for several rankings."""
    n = len(candidates)
    if month is None:
        month = month_inputs(candidates, corpus, cues)
    relevant = np.asarray(relevance[:n], dtype=np.float64)
    topical: dict[str, FloatArray] = {
        "relevance": relevant,
        "title_topic": cues["title_topic"],
        "relevance (abstract)": relevant * month.dense["has_abstract"],
        # Month-relative: a listing month's title-only relevance and a 2025 month's are not on one scale.
        "relevance rank": month_rank(relevant),
    }
    dense = {name: topical[name] if name in topical else month.dense[name] for name in DENSE_FEATURES}
    return ModelInputs(
        dense=dense,
        momentum=month.momentum,
        has_upvotes=month.has_upvotes,
        title_words=month.title_words,
        vocabulary=month.vocabulary,
        abstract_words=month.abstract_words,
    )


@dataclass(frozen=True)
class Term:
    """One feature's coefficient (log-odds per unit) and its mean over the training papers."""

    coef: float
    mean: float = 0.0


@dataclass(frozen=True)
class RankerModel:
    """The fitted coefficients. `score` is the log-odds of a pick up to a constant."""

    dense: Mapping[str, Term]
    words: Mapping[str, float]  # folded title word -> coefficient (presence)
    words_mean: float  # mean title-word contribution over the training papers (centres it)
    momentum: Mapping[str, Term] | None = None  # upvote terms, None when fitted without signals
    # × the other terms where the upvote terms apply (1.0 as `learn.fit_model` fits; kept in the format
    # so a two-stage fit can be expressed).
    base_scale: float = 1.0
    meta: Mapping[str, Any] = field(default_factory=dict)
    abstract_words: Mapping[str, float] = field(default_factory=dict)  # folded abstract word -> coef
    abstract_words_mean: float = 0.0

    def score(
        self, inputs: ModelInputs, *, use_momentum: bool = True
    ) -> tuple[FloatArray, dict[str, FloatArray]]:
        """Score per paper and each feature's contribution (they sum to the score). The upvote
        terms apply only when the month has upvote readings and the model has them."""
        n = inputs.n
        parts: dict[str, FloatArray] = {}
        for name, term in self.dense.items():
            values = inputs.dense.get(name)
            if values is not None and term.coef:
                parts[name] = term.coef * (values - term.mean)
        parts[TITLE_WORDS] = self.title_word_scores(inputs) - self.words_mean
        if self.abstract_words:
            parts[ABSTRACT_WORDS] = self.abstract_word_scores(inputs) - self.abstract_words_mean
        staged = use_momentum and inputs.has_upvotes and self.momentum is not None
        if staged and self.momentum is not None:
            parts = {name: self.base_scale * values for name, values in parts.items()}
            for name, term in self.momentum.items():
                parts[name] = term.coef * (inputs.momentum[name] - term.mean)
        total = np.sum(list(parts.values()), axis=0) if parts else np.zeros(n)
        return np.asarray(total, dtype=np.float64).reshape(n), parts

    def title_word_scores(self, inputs: ModelInputs) -> FloatArray:
        return _word_scores(inputs.title_words, inputs.vocabulary, self.words)

    def abstract_word_scores(self, inputs: ModelInputs) -> FloatArray:
        if inputs.abstract_words is None:
            return np.zeros(inputs.n)
        return _word_scores(inputs.abstract_words, inputs.vocabulary, self.abstract_words)

    def title_word_notes(self, title: str, limit: int = 3) -> list[tuple[str, float]]:
        """The title's words with the largest coefficients, for `explain`."""
        found = {w: self.words[w] for w in dict.fromkeys(words(title)) if w in self.words}
        return sorted(found.items(), key=lambda item: -abs(item[1]))[:limit]

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "meta": dict(self.meta),
            "dense": {k: {"coef": t.coef, "mean": t.mean} for k, t in self.dense.items()},
            "words_mean": self.words_mean,
            "words": dict(sorted(self.words.items())),
            "abstract_words_mean": self.abstract_words_mean,
            "abstract_words": dict(sorted(self.abstract_words.items())),
            "momentum": None
            if self.momentum is None
            else {
                "base_scale": self.base_scale,
                "terms": {k: {"coef": t.coef, "mean": t.mean} for k, t in self.momentum.items()},
            },
        }
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "model") -> RankerModel:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ConfigError(
                    f"{source}: ranking model format {data.get('format')!r}, expected {FORMAT}."
                )
            dense = {k: _term(v) for k, v in data["dense"].items()}
            unknown = set(dense) - set(DENSE_FEATURES)
            if unknown:
                raise ConfigError(f"{source}: unknown ranking features {sorted(unknown)}.")
            stage = data.get("momentum")
            momentum = None if stage is None else {k: _term(v) for k, v in stage["terms"].items()}
            if momentum is not None and set(momentum) - set(MOMENTUM_FEATURES):
                raise ConfigError(f"{source}: unknown momentum features {sorted(momentum)}.")
            return cls(
                dense=dense,
                words={str(w): float(c) for w, c in data["words"].items()},
                words_mean=float(data["words_mean"]),
                abstract_words={str(w): float(c) for w, c in (data.get("abstract_words") or {}).items()},
                abstract_words_mean=float(data.get("abstract_words_mean") or 0.0),
                momentum=momentum,
                base_scale=1.0 if stage is None else float(stage["base_scale"]),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{source} is not a ranking model file: {exc!r}") from None


def _word_scores(
    presence: sparse.csr_matrix, vocabulary: Mapping[str, int], coefs: Mapping[str, float]
) -> FloatArray:
    weights = np.zeros(presence.shape[1])
    for word, coef in coefs.items():
        column = vocabulary.get(word)
        if column is not None and column < weights.size:
            weights[column] = coef
    return np.asarray(presence @ weights, dtype=np.float64).reshape(presence.shape[0])


def _term(value: Mapping[str, Any]) -> Term:
    return Term(coef=float(value["coef"]), mean=float(value.get("mean", 0.0)))


@functools.cache
def load_model(path: Path | None = None) -> RankerModel:
    """The model at `path` (default: the shipped `model.json`), read once per process."""
    where = SHIPPED_PATH if path is None else path
    try:
        text = where.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the ranking model {where}: {exc.strerror}") from None
    return RankerModel.from_json(text, source=str(where))
