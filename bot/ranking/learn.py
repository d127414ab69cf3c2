"""Fit the prior cues' coefficients from labelled months (used offline, by bench/rank_eval.py).

The model is deliberately small: an L2-regularised logistic regression of "this paper was picked" on
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

import numpy as np

from bot.ranking.corpus import FloatArray
from bot.ranking.embedding import Embedder
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
    scored = score_papers(month, topics, weights=fitted, examples={}, embedder=embedder)
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
