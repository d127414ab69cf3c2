"""Try candidate prior cues on the labelled months, leave-one-month-out, before adding any to the ranker.

    python bench/rank_cue_trials.py [--data ../shared/data/bench] [--c 0.01]

For each candidate cue (computed from the month's own papers, as the ranker could at run time), the
cue is appended to the shipped cues, the coefficients are fitted on two months with
`learn.fit_prior_coefficients` and the third month is ranked by relevance + Σ coefficient × cue
(no diversity selection, so the reference row differs a little from `rank_eval.py`'s ranker rows).
A cue earns a place only if it gains on the held-out months without losing on any (the shipped
`author_output` cue came out of this script; docs/ranking.md has the table from before it was
added). "text model" is the other months' picks learned as words (tf-idf + logistic regression), the
strongest form of "papers like the ones curators picked before".

The last table says how far the labels can see: for the reference row's held-out hits h out of n
against the best baseline's b, the chance (each resampled as a binomial, 20,000 draws) that rankers
that good would show ≥ 3× the baseline on another sample of picks. At 30–40 picks a month, a result
moves by one pick (0.026–0.03) with almost any change.
"""

from __future__ import annotations

import argparse
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bot.ranking import DEFAULT_TOPICS
from bot.ranking.corpus import FloatArray, build_corpus
from bot.ranking.evaluation import Labels, baseline_orders, load_labels, load_pool, metrics
from bot.ranking.learn import MonthFeatures, fit_prior_coefficients, month_features
from bot.ranking.topics_score import match_topic
from bot.ranking.types import Candidate

MONTHS = ("2025-04", "2025-05", "2021-06")
Cue = Callable[[Sequence[Candidate]], FloatArray]


def _flag(pattern: str, field: str) -> Cue:
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda month: np.array([bool(compiled.search(getattr(c, field))) for c in month], dtype=float)


def breadth(month: Sequence[Candidate]) -> FloatArray:
    """Sum over the default topics of the paper's relevance: papers at the crossing of several."""
    corpus = build_corpus([c.title for c in month], [c.abstract for c in month])
    n = len(month)
    return np.sum([match_topic(corpus, t.include, t.exclude, n).relevance for t in DEFAULT_TOPICS], axis=0)


def last_author_output(month: Sequence[Candidate]) -> FloatArray:
    counts = Counter(a for c in month for a in c.authors)
    return np.array([math.log1p(counts[c.authors[-1]]) if c.authors else 0.0 for c in month])


CUES: dict[str, Cue] = {
    "breadth (Σ topic relevance)": breadth,
    "last author output": last_author_output,
    "cross-listing log(1+categories)": lambda m: np.array([math.log1p(len(c.categories)) for c in m]),
    "primary cs.CL": lambda m: np.array([c.primary_category == "cs.CL" for c in m], dtype=float),
    "primary cs.CV": lambda m: np.array([c.primary_category == "cs.CV" for c in m], dtype=float),
    "question title": _flag(r"\?", "title"),
    "survey title": _flag(r"\bsurvey\b", "title"),
    "finding words": _flag(r"\b(?:we find|we show that|surprisingly|we discover|we observe)\b", "abstract"),
    "state of the art / outperform": _flag(r"state[- ]of[- ]the[- ]art|outperform", "abstract"),
    "percentage claim": _flag(r"\d(?:\.\d+)?\s?%", "abstract"),
    "abstract length": lambda m: np.array([math.log1p(len(c.abstract.split())) for c in m]),
    "no author list": lambda m: np.array([not c.authors for c in m], dtype=float),
}


def with_cue(features: MonthFeatures, name: str, values: FloatArray) -> MonthFeatures:
    return MonthFeatures(
        ids=features.ids,
        matrix=np.column_stack([features.matrix, values]),
        positive=features.positive,
        columns=(*features.columns, name),
    )


def held_out(
    features: dict[str, MonthFeatures], labels: dict[str, Labels], *, c: float
) -> dict[str, dict[str, float | None]]:
    """Each month ranked with coefficients fitted on the other two."""
    result = {}
    for month in MONTHS:
        fitted = fit_prior_coefficients([features[m] for m in MONTHS if m != month], c=c)
        target = features[month]
        weights = np.array([1.0, *(fitted[name] for name in target.columns)])
        score = target.matrix @ weights
        order = [target.ids[i] for i in np.lexsort((np.arange(len(score)), -score))]
        result[month] = metrics(order, labels[month], frozenset(target.ids))
    return result


def text_model_scores(
    pools: dict[str, list[Candidate]], features: dict[str, MonthFeatures], month: str
) -> FloatArray:
    """z-scored decision values on `month` of a tf-idf logistic regression fitted on the others."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def texts(m: str) -> list[str]:
        return [f"{c.title}. {c.title}. {c.abstract}" for c in features_order(pools[m], features[m])]

    train = [m for m in MONTHS if m != month]
    vectoriser = TfidfVectorizer(sublinear_tf=True, min_df=3, max_df=0.5, ngram_range=(1, 2))
    vectoriser.fit([t for m in train for t in texts(m)])
    labels = [features[m].positive for m in train]
    weights = np.concatenate([np.full(len(y), 1.0 / y.sum()) for y in labels])
    model = LogisticRegression(C=1.0, max_iter=3000)
    model.fit(
        sparse.vstack([vectoriser.transform(texts(m)) for m in train]),
        np.concatenate(labels),
        sample_weight=weights * len(weights) / weights.sum(),
    )
    scores = np.asarray(model.decision_function(vectoriser.transform(texts(month))), dtype=np.float64)
    return (scores - scores.mean()) / (scores.std() or 1.0)


def features_order(pool: list[Candidate], features: MonthFeatures) -> list[Candidate]:
    by_id = {c.arxiv_id: c for c in pool}
    return [by_id[i] for i in features.ids]


def chance_of_three_times(hits: int, baseline_hits: int, n: int, draws: int = 20_000) -> float:
    rng = np.random.default_rng(0)
    ranker = rng.binomial(n, hits / n, draws)
    baseline = rng.binomial(n, baseline_hits / n, draws)
    return float(np.mean(ranker >= 3 * baseline))


def cell(values: dict[str, float | None], month: str) -> str:
    key = "precision@50" if month == "2021-06" else "recall@50"
    value = values[key]
    return "—" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/bench"
    )
    parser.add_argument("--c", type=float, default=0.01, help="logistic regression C (shipped: 0.01)")
    args = parser.parse_args()
    pools = {m: load_pool(args.data / f"pool-{m}.jsonl.gz") for m in MONTHS}
    labels = {m: load_labels(args.data / f"labels-{m}.json") for m in MONTHS}
    base = {m: month_features(pools[m], DEFAULT_TOPICS, labels[m].popular or labels[m].picks) for m in MONTHS}
    print("| cue added to the shipped ones | 2025-04 recall@50 | 2025-05 recall@50 | 2021-06 precision@50 |")
    print("|---|---:|---:|---:|")
    reference = held_out(base, labels, c=args.c)
    print("| (none: shipped cues, refitted) | " + " | ".join(cell(reference[m], m) for m in MONTHS) + " |")
    for name, cue in CUES.items():
        extended = {m: with_cue(base[m], name, cue(features_order(pools[m], base[m]))) for m in MONTHS}
        values = held_out(extended, labels, c=args.c)
        print(f"| {name} | " + " | ".join(cell(values[m], m) for m in MONTHS) + " |")
    text = {m: with_cue(base[m], "text", text_model_scores(pools, base, m)) for m in MONTHS}
    values = held_out(text, labels, c=args.c)
    print(
        "| text model of the other months' picks | " + " | ".join(cell(values[m], m) for m in MONTHS) + " |"
    )

    print("\n| month | held-out ranker | best baseline | chance of showing ≥ 3× the baseline |")
    print("|---|---:|---:|---:|")
    for month in MONTHS:
        key = "precision@50" if month == "2021-06" else "recall@50"
        pool_ids = frozenset(c.arxiv_id for c in pools[month])
        n = 50 if key == "precision@50" else len(labels[month].picks & pool_ids)
        baselines = [
            metrics(order, labels[month], pool_ids)[key] or 0.0
            for order in baseline_orders(pools[month], DEFAULT_TOPICS).values()
        ]
        hits, best = round((reference[month][key] or 0.0) * n), round(max(baselines) * n)
        print(f"| {month} {key} | {hits}/{n} | {best}/{n} | {chance_of_three_times(hits, best, n):.0%} |")


if __name__ == "__main__":
    main()
