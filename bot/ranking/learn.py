"""Fit the prior cues' coefficients from labelled months (used offline, by bench/rank_eval.py).

The model is deliberately small: an L2-regularised logistic regression of "this paper was picked" on
the relevance component and the generic cues of `priors.LEARNED_CUES` (author count, title length,
named system, release, scale, frontier model, topic in title). No word of any paper is a feature, so
the fit cannot memorise papers. Each month's positives get equal total weight, so the month with the
most labels does not dominate. Coefficients are divided by the relevance coefficient, which puts them
in the units `rank.score_papers` adds them in (relevance counts 1).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.ranking.corpus import FloatArray
from bot.ranking.priors import LEARNED_CUES
from bot.ranking.rank import score_papers
from bot.ranking.types import Candidate, TopicSpec
from bot.settings import RankingWeights

REGULARISATION_C = 0.01  # strong shrinkage: three months, ~30 positives each in 2025


@dataclass(frozen=True)
class MonthFeatures:
    """One labelled month as a design matrix: relevance, then the learned cues."""

    ids: list[str]
    matrix: FloatArray  # papers × (1 + len(LEARNED_CUES))
    positive: np.ndarray  # bool per paper


def month_features(
    pool: Sequence[Candidate], topics: Sequence[TopicSpec], positives: Collection[str]
) -> MonthFeatures:
    """The fitted features of every paper of `pool`, exactly as the ranker computes them."""
    month = list({c.arxiv_id: c for c in reversed(pool)}.values())[::-1]
    relevance_only = RankingWeights(learned=0.0, momentum=0.0, feedback=0.0)
    scored = score_papers(month, topics, weights=relevance_only, examples={})
    columns = [scored.components["relevance"], *(scored.prior_cues[c] for c in LEARNED_CUES)]
    wanted = set(positives)
    return MonthFeatures(
        ids=[c.arxiv_id for c in month],
        matrix=np.column_stack(columns).astype(np.float64),
        positive=np.array([c.arxiv_id in wanted for c in month], dtype=bool),
    )


def fit_prior_coefficients(
    months: Sequence[MonthFeatures], *, c: float = REGULARISATION_C
) -> dict[str, float]:
    """Cue coefficients in relevance units, fitted on `months` (each must have a positive)."""
    from sklearn.linear_model import LogisticRegression

    usable = [m for m in months if m.positive.any()]
    if not usable:
        raise ValueError("no labelled positives to fit on")
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
    return {cue: round(float(value / relevance), 3) for cue, value in zip(LEARNED_CUES, raw[1:], strict=True)}


def with_hand_set(learned: Mapping[str, float], shipped: Mapping[str, float]) -> dict[str, float]:
    """Fitted cue coefficients plus the hand-set ones (e.g. venue) from `shipped`."""
    return {**shipped, **learned}
