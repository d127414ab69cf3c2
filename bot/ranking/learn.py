"""Fit rankers on labelled months, offline (bench/rank_fit.py, bench/rank_eval.py).

`fit_model` fits the learned ranker shipped as `model.json` (`bot.ranking.model`): one L2 logistic
regression over the month features of `model.model_inputs` (`TrainingMonth` holds them as matrices),
common title words and the upvote features; see its docstring. `score_training_month` scores a
month from those matrices exactly as `RankerModel.score` does at run time (tested), for the
evaluation's many refits.

`fit_prior_coefficients` fits the earlier rounds' cue ranker (`rank_month(…, model=None)`). That
model is deliberately small: an L2-regularised logistic regression of "this paper was picked" on
the relevance component and the generic cues of `priors.LEARNED_CUES` (author count, title length,
named system, release, scale, frontier model, topic in title). No word of any paper is a feature, so
the fit cannot memorise papers. Each month's positives get equal total weight, so the month with the
most labels does not dominate. Coefficients are divided by the relevance coefficient, which puts them
in the units `rank.score_papers` adds them in (relevance counts 1).

With an `Embedder`, the embedding component (weight 1) is one more column, so its fitted coefficient
is the `RankingWeights.embedding` to use, in the same units, and is held out like the cues.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from bot.ranking.corpus import FloatArray
from bot.ranking.embedding import Embedder
from bot.ranking.model import DENSE_FEATURES, MOMENTUM_FEATURES, ModelInputs, RankerModel, Term
from bot.ranking.priors import LEARNED_CUES
from bot.ranking.rank import score_papers
from bot.ranking.types import Candidate, TopicSpec
from bot.settings import RankingWeights

REGULARISATION_C = 0.01  # strong shrinkage: three months, ~30 positives each in 2025


@dataclass(frozen=True)
class MonthFeatures:
    """One labelled month as a design matrix: relevance, then the fitted `columns`."""

    ids: list[str]
    matrix: FloatArray  # papers × (1 + len(columns))
    positive: np.ndarray  # bool per paper
    columns: tuple[str, ...] = LEARNED_CUES  # what the matrix holds after relevance


def month_features(
    pool: Sequence[Candidate],
    topics: Sequence[TopicSpec],
    positives: Collection[str],
    *,
    embedder: Embedder | None = None,
) -> MonthFeatures:
    """The fitted features of every paper of `pool`, exactly as the ranker computes them; with
    `embedder`, the embedding component (at weight 1) comes right after relevance."""
    month = list({c.arxiv_id: c for c in reversed(pool)}.values())[::-1]
    fitted = RankingWeights(
        learned=0.0, momentum=0.0, feedback=0.0, embedding=1.0 if embedder is not None else 0.0
    )
    scored = score_papers(month, topics, weights=fitted, examples={}, embedder=embedder, model=None)
    names = ("embedding", *LEARNED_CUES) if embedder is not None else LEARNED_CUES
    columns = [
        scored.components["relevance"],
        *(
            scored.components["embedding"] if name == "embedding" else scored.prior_cues[name]
            for name in names
        ),
    ]
    wanted = set(positives)
    return MonthFeatures(
        ids=[c.arxiv_id for c in month],
        matrix=np.column_stack(columns).astype(np.float64),
        positive=np.array([c.arxiv_id in wanted for c in month], dtype=bool),
        columns=names,
    )


def fit_prior_coefficients(
    months: Sequence[MonthFeatures], *, c: float = REGULARISATION_C
) -> dict[str, float]:
    """Coefficients of the months' `columns` in relevance units, fitted on `months` (those without a
    positive are skipped; all must have the same columns)."""
    from sklearn.linear_model import LogisticRegression

    usable = [m for m in months if m.positive.any()]
    if not usable:
        raise ValueError("no labelled positives to fit on")
    if len({m.columns for m in usable}) > 1:
        raise ValueError("months with different feature columns cannot be fitted together")
    matrix = np.vstack([m.matrix for m in usable])
    labels = np.concatenate([m.positive for m in usable])
    sample_weight = np.concatenate([np.full(len(m.ids), 1.0 / m.positive.sum()) for m in usable])
    sample_weight *= len(labels) / sample_weight.sum()
    # Standardise for the penalty's sake, then map the coefficients back to raw units.
    mean, spread = matrix.mean(axis=0), matrix.std(axis=0)
    spread[spread == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit((matrix - mean) / spread, labels, sample_weight=sample_weight)
    raw = np.asarray(model.coef_, dtype=np.float64).ravel() / spread
    relevance = raw[0] if raw[0] > 1e-9 else 1.0  # relevance must stay the unit; guard a flat fit
    names = usable[0].columns
    return {name: round(float(value / relevance), 3) for name, value in zip(names, raw[1:], strict=True)}


def with_hand_set(learned: Mapping[str, float], shipped: Mapping[str, float]) -> dict[str, float]:
    """Fitted cue coefficients plus the hand-set ones (e.g. venue) from `shipped`."""
    return {**shipped, **learned}


# ------------------------------------------------------------------------------- the learned model

MODEL_C = 0.05  # L2 strength (standardised features); 0.01 and 0.2 measured no better rolling-origin
WORD_SCALE = 1.0  # title-word columns enter × this (0.5 and 2.0 measured no better held out)
ABSTRACT_SCALE = 1.0  # abstract-word columns enter × this (0.5 measured a little worse)
MIN_WORD_PAPERS = 50  # a title word enters the model only if this many training titles have it …
MIN_WORD_MONTHS = 4  # … spread over at least this many training months: no word names one paper
MIN_WORD_COEF = 1e-3  # smaller word coefficients are dropped from the artefact


@dataclass(frozen=True)
class TrainingMonth:
    """One labelled month as the learned model sees it (`model.model_inputs` in matrix form)."""

    label: str
    dense: FloatArray  # papers × len(DENSE_FEATURES)
    momentum: FloatArray  # papers × len(MOMENTUM_FEATURES)
    has_upvotes: bool
    words: sparse.csr_matrix  # papers × len(vocabulary): title word presence, shared columns
    positive: np.ndarray  # bool per paper
    abstract_words: sparse.csr_matrix | None = None  # the same for abstracts (None: a listing)


def training_month(
    label: str, inputs: ModelInputs, positive: np.ndarray, vocabulary: dict[str, int]
) -> TrainingMonth:
    """`inputs` with its title words renumbered into `vocabulary` (shared by all months; grown here)."""
    remap = np.empty(inputs.title_words.shape[1], dtype=np.int64)
    for word, column in inputs.vocabulary.items():
        if column < remap.size:
            remap[column] = vocabulary.setdefault(word, len(vocabulary))

    def renumbered(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        found = matrix.tocoo()
        return sparse.csr_matrix(
            (found.data, (found.row, remap[found.col])), shape=(inputs.n, max(len(vocabulary), 1))
        )

    words = renumbered(inputs.title_words)
    abstracts = None if inputs.abstract_words is None else renumbered(inputs.abstract_words)
    return TrainingMonth(
        label=label,
        dense=np.column_stack([inputs.dense[name] for name in DENSE_FEATURES]),
        momentum=np.column_stack([inputs.momentum[name] for name in MOMENTUM_FEATURES]),
        has_upvotes=inputs.has_upvotes,
        words=words,
        positive=np.asarray(positive, dtype=bool),
        abstract_words=abstracts,
    )


def _month_weights(months: Sequence[TrainingMonth]) -> FloatArray:
    # Every month's positives weigh the same in total, so months with more labels do not dominate.
    weights = np.concatenate([np.full(len(m.positive), 1.0 / max(int(m.positive.sum()), 1)) for m in months])
    return np.asarray(weights * (len(weights) / weights.sum()), dtype=np.float64)


def fit_model(
    months: Sequence[TrainingMonth],
    vocabulary: Mapping[str, int],
    *,
    c: float = MODEL_C,
    word_scale: float = WORD_SCALE,
    abstract_scale: float = ABSTRACT_SCALE,
    momentum: bool = True,
    drop: Collection[str] = (),
    meta: Mapping[str, object] | None = None,
) -> RankerModel:
    """Fit the model on `months` (those without a positive are skipped): an L2 logistic regression
    of "picked" on the standardised features, the upvote features (0 in months without readings,
    where a constant ranks nothing; `momentum=False` leaves them out), and common title and abstract
    words (× `word_scale` / `abstract_scale`; 0 leaves them out). `drop` names features left out
    (the ablation). Deterministic (lbfgs, no random draw)."""
    from sklearn.linear_model import LogisticRegression

    usable = [m for m in months if m.positive.any()]
    if not usable:
        raise ValueError("no labelled positives to fit on")
    labels = np.concatenate([m.positive for m in usable])
    keep = [i for i, name in enumerate(DENSE_FEATURES) if name not in drop]
    dense = np.vstack([m.dense for m in usable])[:, keep]
    joint = momentum and any(m.has_upvotes for m in usable)
    if joint:
        dense = np.column_stack([dense, np.vstack([m.momentum for m in usable])])
    mean, spread = dense.mean(axis=0), dense.std(axis=0)
    spread[spread == 0] = 1.0
    blocks: list[Any] = [sparse.csr_matrix((dense - mean) / spread)]
    n_columns = max(len(vocabulary), 1)
    by_column = {column: word for word, column in vocabulary.items()}
    title_rows = [_width(m.words, n_columns) for m in usable]
    abstract_rows = [
        _width(m.abstract_words, n_columns)
        if m.abstract_words is not None
        else sparse.csr_matrix((len(m.positive), n_columns))
        for m in usable
    ]
    title_columns = _common_words(title_rows) if word_scale > 0 else np.zeros(0, dtype=np.int64)
    abstract_columns = _common_words(abstract_rows) if abstract_scale > 0 else np.zeros(0, dtype=np.int64)
    if title_columns.size:
        blocks.append(sparse.vstack(title_rows).tocsr()[:, title_columns] * word_scale)
    if abstract_columns.size:
        blocks.append(sparse.vstack(abstract_rows).tocsr()[:, abstract_columns] * abstract_scale)
    model = LogisticRegression(C=c, max_iter=3000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(sparse.hstack(blocks).tocsr(), labels, sample_weight=_month_weights(usable))
    coef = np.asarray(model.coef_, dtype=np.float64).ravel()
    n_dense = dense.shape[1]
    dense_coef = coef[:n_dense] / spread
    terms = {
        DENSE_FEATURES[i]: Term(coef=round(float(k), 5), mean=round(float(mu), 5))
        for i, k, mu in zip(keep, dense_coef[: len(keep)], mean[: len(keep)], strict=True)
    }
    momentum_terms = None
    if joint:
        signal_rows = np.concatenate([np.full(len(m.positive), m.has_upvotes) for m in usable])
        upvote_means = np.vstack([m.momentum for m in usable])[signal_rows].mean(axis=0)
        momentum_terms = {
            name: Term(coef=round(float(k), 5), mean=round(float(mu), 5))
            for name, k, mu in zip(MOMENTUM_FEATURES, dense_coef[len(keep) :], upvote_means, strict=True)
        }
    title_coef = coef[n_dense : n_dense + title_columns.size] * word_scale
    abstract_coef = coef[n_dense + title_columns.size :] * abstract_scale

    def weights_of(columns: np.ndarray, values: np.ndarray) -> dict[str, float]:
        return {
            by_column[int(column)]: round(float(k), 4)
            for column, k in zip(columns, values, strict=True)
            if abs(k) >= MIN_WORD_COEF
        }

    title_words, abstract_words = (
        weights_of(title_columns, title_coef),
        weights_of(abstract_columns, abstract_coef),
    )
    # Centre each word block on the training papers, as the dense features are.
    title_mean = float(np.concatenate([_word_sum(r, vocabulary, title_words) for r in title_rows]).mean())
    abstract_mean = float(
        np.concatenate([_word_sum(r, vocabulary, abstract_words) for r in abstract_rows]).mean()
    )
    return RankerModel(
        dense=terms,
        words=title_words,
        words_mean=round(title_mean, 5),
        momentum=momentum_terms,
        meta=dict(meta or {}),
        abstract_words=abstract_words,
        abstract_words_mean=round(abstract_mean, 5),
    )


def _common_words(rows: Sequence[sparse.csr_matrix]) -> np.ndarray:
    """Columns of words in at least `MIN_WORD_PAPERS` papers spread over `MIN_WORD_MONTHS` months."""
    papers = np.sum([np.asarray(r.sum(axis=0)).ravel() for r in rows], axis=0)
    months_with = np.sum([np.asarray(r.sum(axis=0)).ravel() > 0 for r in rows], axis=0)
    return np.flatnonzero((papers >= MIN_WORD_PAPERS) & (months_with >= MIN_WORD_MONTHS))


def _word_sum(
    presence: sparse.csr_matrix, vocabulary: Mapping[str, int], coefs: Mapping[str, float]
) -> FloatArray:
    weights = np.zeros(max(len(vocabulary), 1))
    for word, coef in coefs.items():
        column = vocabulary.get(word)
        if column is not None:
            weights[column] = coef
    return np.asarray(_width(presence, weights.size) @ weights, dtype=np.float64).ravel()


def _width(matrix: sparse.csr_matrix, n_columns: int) -> sparse.csr_matrix:
    """`matrix` with `n_columns` columns (a month read before the vocabulary grew has fewer)."""
    matrix = sparse.csr_matrix(matrix)
    if matrix.shape[1] == n_columns:
        return matrix
    matrix.resize((matrix.shape[0], n_columns))
    return matrix


def score_training_month(
    model: RankerModel, month: TrainingMonth, vocabulary: Mapping[str, int], *, use_momentum: bool = True
) -> FloatArray:
    """`model.score` on a `TrainingMonth` (the evaluation's fast path; same numbers as at run time)."""
    total = _word_sum(month.words, vocabulary, model.words) - model.words_mean
    if model.abstract_words:
        abstracts = (
            0.0
            if month.abstract_words is None
            else _word_sum(month.abstract_words, vocabulary, model.abstract_words)
        )
        total = total + abstracts - model.abstract_words_mean
    for i, name in enumerate(DENSE_FEATURES):
        term = model.dense.get(name)
        if term is not None and term.coef:
            total = total + term.coef * (month.dense[:, i] - term.mean)
    if use_momentum and month.has_upvotes and model.momentum is not None:
        total = model.base_scale * total
        for i, name in enumerate(MOMENTUM_FEATURES):
            term = model.momentum[name]
            total = total + term.coef * (month.momentum[:, i] - term.mean)
    return np.asarray(total, dtype=np.float64)
