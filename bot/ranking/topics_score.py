"""Topic scores: BM25 over phrases (relevance) and a linear text model per topic (learned).

Relevance is BM25 where the "terms" are a topic's include phrases, matched as phrases over title and
abstract; a title occurrence counts `TITLE_BOOST` times. Raw BM25 grows with the number of phrases a
topic lists, so each topic's scores are squashed to [0, 1) by its own month median, which makes topics
comparable. A paper that contains one of a topic's exclude phrases gets 0 for that topic.

The learned component follows arxiv-sanity-lite: tf-idf rows and a linear SVM per topic, trained on the
topic's example papers (positives) against the month. A topic without examples learns from its own
best keyword matches instead (pseudo-relevance feedback: the centroid of the top matches' tf-idf
rows), which finds papers on the topic that use other words.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from bot.ranking.corpus import Corpus, FloatArray

K1 = 1.2
B = 0.75
TITLE_BOOST = 3.0
TITLE_PHRASES_CAP = 2  # the "topic in the title" cue counts at most this many distinct phrases
FEEDBACK_DOCS = 30  # top keyword matches a topic without examples learns from
SVM_C = 0.1


@dataclass(frozen=True)
class TopicMatch:
    """One topic's scores over the month, and which phrases each paper matched."""

    relevance: FloatArray  # [0, 1) per paper
    raw: FloatArray  # raw BM25, for pseudo-relevance feedback
    excluded: np.ndarray  # bool per paper: an exclude phrase matched
    phrase_hits: list[tuple[str, np.ndarray]]  # (phrase, indices of papers that contain it)
    title_phrases: FloatArray  # distinct include phrases in the title, per paper (0 if excluded)


def _squash(raw: FloatArray) -> FloatArray:
    positive = raw[raw > 0]
    if positive.size == 0:
        return np.zeros_like(raw)
    scale = float(np.median(positive))
    return raw / (raw + scale)


def match_topic(corpus: Corpus, include: Sequence[str], exclude: Sequence[str], month: int) -> TopicMatch:
    """BM25 of one topic's include phrases for every paper; statistics come from the first `month`
    papers (the rest are out-of-month examples)."""
    n = corpus.n_docs
    lengths = corpus.lengths
    average = float(lengths[:month].mean()) if month else 1.0
    norm = K1 * (1.0 - B + B * lengths / max(average, 1.0))
    raw = np.zeros(n)
    hits: list[tuple[str, np.ndarray]] = []
    title_phrases = np.zeros(n)
    for phrase in dict.fromkeys(p.strip() for p in include if p.strip()):
        anywhere, title = corpus.phrase_counts(phrase)
        found = np.flatnonzero(anywhere)
        if found.size == 0:
            continue
        df = float(np.count_nonzero(anywhere[:month]))
        idf = float(np.log(1.0 + (month - df + 0.5) / (df + 0.5)))
        tf = anywhere[found] + (TITLE_BOOST - 1.0) * title[found]
        raw[found] += idf * tf * (K1 + 1.0) / (tf + norm[found])
        hits.append((phrase, found))
        title_phrases += title > 0
    excluded = np.zeros(n, dtype=bool)
    for phrase in exclude:
        if phrase.strip():
            excluded |= corpus.phrase_counts(phrase)[0] > 0
    raw[excluded] = 0.0
    title_phrases[excluded] = 0.0
    relevance = _squash(raw)
    return TopicMatch(
        relevance=relevance, raw=raw, excluded=excluded, phrase_hits=hits, title_phrases=title_phrases
    )


def scale_top(values: FloatArray, month: int) -> FloatArray:
    """Map scores to [0, 1]: the month median and below → 0, the 99th percentile and above → 1."""
    reference = values[:month] if month else values
    if reference.size == 0:
        return np.zeros_like(values)
    low, high = (float(v) for v in np.percentile(reference, [50, 99]))
    if high <= low:
        return np.zeros_like(values)
    scaled: FloatArray = np.clip((values - low) / (high - low), 0.0, 1.0)
    return scaled


def learned_scores(
    features: sparse.csr_matrix, month: int, positives: Sequence[int], *, supervised: bool
) -> FloatArray:
    """Linear text model score per paper, scaled to [0, 1].

    supervised: positives are example papers → linear SVM, positives vs the month's other papers.
    Otherwise positives are the topic's best keyword matches → Rocchio centroid (cosine similarity),
    which costs one sparse product instead of an SVM fit per topic.
    """
    n = features.shape[0]
    if not positives or month == 0:
        return np.zeros(n)
    if supervised:
        from sklearn.svm import LinearSVC

        labels = np.zeros(n, dtype=np.int64)
        labels[list(positives)] = 1
        train = np.concatenate(
            [np.arange(month), np.array([p for p in positives if p >= month], dtype=np.int64)]
        )
        train = np.unique(train)
        if labels[train].min() == labels[train].max():
            return np.zeros(n)
        # liblinear shuffles its coordinates with a seed drawn from numpy's global generator unless
        # given one: fixed, so the same month always ranks the same.
        model = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=2000, tol=1e-4, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning on tiny months is harmless here
            model.fit(features[train], labels[train])
        decision = np.asarray(model.decision_function(features), dtype=np.float64)
        return scale_top(decision, month)
    centroid = np.asarray(features[list(positives)].mean(axis=0)).ravel()
    size = float(np.linalg.norm(centroid))
    if size == 0:
        return np.zeros(n)
    similarity = np.asarray(features @ (centroid / size), dtype=np.float64).ravel()
    return scale_top(similarity, month)
