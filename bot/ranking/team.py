"""Per-team learning: a small text model of what one team likes, fitted on its own 👍/👎 votes and its
topics' example papers, added to the learned ranker's score (arxiv-sanity style).

`fit_team_model(liked, disliked, background)` is pure: papers in, word weights out. Liked papers (👍
and topic examples) are positives; disliked papers (👎) and a background of papers nobody voted on
are negatives, as arxiv-sanity trains a user's tag against every other paper. Each paper is the set
of its title and abstract words (the ranker's tokens), L2-normalised; a class-balanced linear SVM
gives one weight per word. `team_scores` applies the weights to a month's papers and scales them to
[0, 1] by the month's median and 99th percentile (as the other text components), so
`rank_month(…, team=…)` adds `team.weight` × that as the "team" part of the priors component.

Storing the weights per deployment and refitting them on a schedule is left to the caller (the
storage layer); `bench/rank_team.py` measures the lift by simulation on the labelled months.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from bot.ranking.corpus import Corpus, FloatArray, build_corpus
from bot.ranking.topics_score import scale_top
from bot.ranking.types import Candidate

TEAM_C = 0.1
TEAM_WEIGHT = 1.0  # log-odds added for a paper at the month's 99th percentile of the team's score
MIN_VOTES = 3  # fewer liked papers than this teach nothing reliable: no adjustment


@dataclass(frozen=True)
class TeamModel:
    """Word weights of one team's taste, and how much they count in the score."""

    words: Mapping[str, float]
    weight: float = TEAM_WEIGHT
    liked: int = 0  # how many positives it was fitted on (for `explain`)


def _presence(corpus: Corpus, rows: int) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(corpus.counts[:rows])
    matrix.data = np.ones_like(matrix.data, dtype=np.float64)
    norms = np.sqrt(np.asarray(matrix.sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def fit_team_model(
    liked: Sequence[Candidate],
    disliked: Sequence[Candidate],
    background: Sequence[Candidate] = (),
    *,
    c: float = TEAM_C,
    weight: float = TEAM_WEIGHT,
) -> TeamModel | None:
    """The team's word weights, or None with fewer than `MIN_VOTES` liked papers. A paper both liked
    and disliked (votes changed) counts as liked; background papers that were voted on are dropped."""
    from sklearn.svm import LinearSVC

    positive_ids = {c.arxiv_id for c in liked}
    if len(positive_ids) < MIN_VOTES:
        return None
    negatives = {c.arxiv_id: c for c in (*disliked, *background) if c.arxiv_id not in positive_ids}
    positives = {c.arxiv_id: c for c in liked}
    papers = [*positives.values(), *negatives.values()]
    if not negatives:
        return None
    corpus = build_corpus([p.title for p in papers], [p.abstract for p in papers])
    matrix = _presence(corpus, len(papers))
    labels = np.zeros(len(papers), dtype=np.int64)
    labels[: len(positives)] = 1
    model = LinearSVC(C=c, class_weight="balanced", max_iter=5000, tol=1e-5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on a handful of votes is harmless
        model.fit(matrix, labels)
    coef = np.asarray(model.coef_, dtype=np.float64).ravel()
    words = {
        word: round(float(coef[column]), 5) for word, column in corpus.vocabulary.items() if coef[column]
    }
    return TeamModel(words=words, weight=weight, liked=len(positives))


def team_scores(team: TeamModel, corpus: Corpus, month: int) -> FloatArray:
    """The team model's score of the first `month` papers of `corpus`, scaled to [0, 1]."""
    weights = np.zeros(corpus.counts.shape[1])
    for word, coef in team.words.items():
        column = corpus.vocabulary.get(word)
        if column is not None and column < weights.size:
            weights[column] = coef
    raw = np.asarray(_presence(corpus, month) @ weights, dtype=np.float64).ravel()
    return scale_top(raw, month)
