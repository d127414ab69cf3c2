"""Offline evaluation of the ranker on a labelled month, entirely in memory (no database).

A pool file has one paper per line (JSON, optionally gzipped): `id`, `title`, `abstract`, `authors`,
`categories`, `primary`, `date`. A labels file has `picks` (`[{title, id}]`, `id` null when the pick is
not in the pool) and optionally `extended_ranked` (a larger list of popular papers). We report recall@k
of the picks found in the pool, and precision@50 against `extended_ranked`, for the ranker and for
simple baselines: random (fixed seed), newest first, topic BM25 only, and number of authors.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import random
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError as PydanticValidationError

from bot.errors import NotFoundError, ValidationError
from bot.ranking.default_topics import DEFAULT_TOPICS
from bot.ranking.embedding import Embedder
from bot.ranking.model import UPVOTES, RankerModel
from bot.ranking.rank import rank_month
from bot.ranking.types import Candidate, TopicSpec
from bot.settings import RankingWeights, TopicSeed

RECALL_AT = (10, 50, 200)
PRECISION_AT = 50
RANDOM_SEED = 20210601
BASELINES = ("random", "newest", "topic_bm25", "authors")


@dataclass(frozen=True)
class Labels:
    picks: frozenset[str]  # pick ids present in the labels (null ids dropped)
    popular: frozenset[str] | None  # `extended_ranked` ids, when the file has them


Metrics = dict[str, float | None]


def _open_text(path: Path) -> Any:
    if not path.is_file():
        raise NotFoundError(f"{path} does not exist (give the path of a pool or labels file).")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _text(value: object, what: str, line: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"line {line}: `{what}` must be a string.")
    return value


def _strings(value: object, what: str, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"line {line}: `{what}` must be a list of strings.")
    return tuple(value)


def load_pool(path: Path) -> list[Candidate]:
    """Papers of a pool file, in file order; a malformed line is reported by its number."""
    papers: list[Candidate] = []
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValidationError(f"{path}: line {number} is not JSON ({exc.msg}).") from None
                if not isinstance(row, dict):
                    raise ValidationError(f"{path}: line {number} is not a JSON object.")
                papers.append(_candidate(row, number))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path} could not be read: {exc}") from None
    return papers


def _candidate(row: Mapping[str, Any], line: int) -> Candidate:
    arxiv_id = _text(row.get("id"), "id", line).strip()
    if not arxiv_id:
        raise ValidationError(f"line {line}: `id` is empty.")
    try:
        date = dt.datetime.fromisoformat(str(row.get("date") or "1970-01-01"))
    except ValueError:
        raise ValidationError(f"line {line}: `date` is not an ISO date.") from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    categories = _strings(row.get("categories"), "categories", line)
    comment, journal_ref = row.get("comment"), row.get("journal_ref")
    signals = row.get("signals") or {}
    if not isinstance(signals, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for k, v in signals.items()
    ):
        raise ValidationError(f"line {line}: `signals` must map names to finite numbers.")
    return Candidate(
        arxiv_id=arxiv_id,
        title=_text(row.get("title", ""), "title", line),
        abstract=_text(row.get("abstract", ""), "abstract", line),
        authors=_strings(row.get("authors"), "authors", line),
        categories=categories,
        primary_category=str(row.get("primary") or (categories[0] if categories else "")),
        submitted_at=date,
        comment=comment if isinstance(comment, str) else None,
        journal_ref=journal_ref if isinstance(journal_ref, str) else None,
        signals={k: float(v) for k, v in signals.items()},
    )


def _ids(entries: object, what: str) -> frozenset[str]:
    if not isinstance(entries, list):
        raise ValidationError(f"labels: `{what}` must be a list of {{title, id}} objects.")
    ids = {e.get("id") for e in entries if isinstance(e, dict)}
    return frozenset(i for i in ids if isinstance(i, str) and i)


def load_labels(path: Path) -> Labels:
    try:
        with _open_text(path) as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path} is not JSON ({exc.msg} at line {exc.lineno}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path} could not be read: {exc}") from None
    if not isinstance(data, dict) or "picks" not in data:
        raise ValidationError(f"{path} has no `picks` list.")
    popular = _ids(data["extended_ranked"], "extended_ranked") if data.get("extended_ranked") else None
    return Labels(picks=_ids(data["picks"], "picks"), popular=popular)


def load_topics_file(path: Path) -> tuple[tuple[TopicSpec, ...], RankingWeights | None]:
    """Topics (`[[topics]]`, as in trends.toml) and optional `[weights]` from a TOML file."""
    if not path.is_file():
        raise NotFoundError(f"{path} does not exist (give a TOML file with [[topics]] tables).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path} is not valid TOML: {exc}") from None
    seeds: list[TopicSeed] = []
    where = "weights"
    try:
        for number, table in enumerate(data.get("topics", []), start=1):
            where = f"topic {number}"
            seeds.append(TopicSeed.model_validate(table))
        where = "[weights]"
        weights = RankingWeights.model_validate(data["weights"]) if "weights" in data else None
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field_name = ".".join(str(p) for p in first["loc"]) or "value"
        raise ValidationError(f"{path}: {where}, `{field_name}`: {first['msg']}") from None
    if not seeds:
        raise ValidationError(f"{path} defines no [[topics]].")
    topics = tuple(
        TopicSpec(
            name=s.name,
            description=s.description,
            include=tuple(s.include),
            exclude=tuple(s.exclude),
            examples=tuple(s.examples),
            weight=s.weight,
            enabled=s.enabled,
        )
        for s in seeds
    )
    return topics, weights


def metrics(order: Sequence[str], labels: Labels, pool_ids: frozenset[str]) -> Metrics:
    """recall@k of the picks present in the pool, and precision@50 against `extended_ranked`."""
    picks = labels.picks & pool_ids
    result: Metrics = {}
    for k in RECALL_AT:
        top = set(order[:k])
        result[f"recall@{k}"] = round(len(picks & top) / len(picks), 4) if picks else None
    if labels.popular is None:
        result[f"precision@{PRECISION_AT}"] = None
    else:
        shown = set(order[:PRECISION_AT])
        result[f"precision@{PRECISION_AT}"] = round(len(labels.popular & shown) / PRECISION_AT, 4)
    return result


def ranker_order(
    pool: Sequence[Candidate],
    topics: Sequence[TopicSpec],
    weights: RankingWeights,
    prior_coefficients: Mapping[str, float] | None = None,
    embedder: Embedder | None = None,
    model: RankerModel | Literal["shipped"] | None = "shipped",
) -> list[str]:
    """The ranker's list as a reader meets it: picks, then other papers, then the rest by score.
    `model` as in `rank_month` (None: the hand-weighted cues, `prior_coefficients`)."""
    selection = rank_month(
        pool,
        topics,
        weights=weights,
        prior_coefficients=prior_coefficients,
        embedder=embedder,
        model=None if prior_coefficients is not None else model,
    )
    shown = [p.candidate.arxiv_id for p in (*selection.picks, *selection.others)]
    seen = set(shown)
    return shown + [p.candidate.arxiv_id for p in selection.ranked if p.candidate.arxiv_id not in seen]


def baseline_orders(pool: Sequence[Candidate], topics: Sequence[TopicSpec]) -> dict[str, list[str]]:
    ids = [c.arxiv_id for c in pool]
    shuffled = ids.copy()
    random.Random(RANDOM_SEED).shuffle(shuffled)
    bm25_only = RankingWeights(
        relevance=1.0, learned=0.0, embedding=0.0, priors=0.0, momentum=0.0, feedback=0.0
    )
    by_key: Callable[[Callable[[Candidate], Any]], list[str]] = lambda key: [  # noqa: E731
        c.arxiv_id for c in sorted(pool, key=key)
    ]
    return {
        "random": shuffled,
        "newest": by_key(lambda c: (-c.submitted_at.timestamp(), _reverse_id(c.arxiv_id))),
        "topic_bm25": [
            p.candidate.arxiv_id for p in rank_month(pool, topics, weights=bm25_only, model=None).ranked
        ],
        "authors": by_key(lambda c: (-len(c.authors), c.arxiv_id)),
    }


def _reverse_id(arxiv_id: str) -> tuple[int, ...]:
    # Newest first within a day: later arXiv numbers were submitted later.
    return tuple(-ord(ch) for ch in arxiv_id)


def evaluate(
    pool: Sequence[Candidate],
    labels: Labels,
    *,
    topics: Sequence[TopicSpec] = DEFAULT_TOPICS,
    weights: RankingWeights | None = None,
) -> dict[str, Any]:
    """`{"ranker": metrics, "baselines": {name: metrics}}` for one labelled month."""
    if not pool:
        raise ValidationError("The pool is empty: nothing to rank.")
    pool_ids = frozenset(c.arxiv_id for c in pool)
    ranker = metrics(ranker_order(pool, topics, weights or RankingWeights()), labels, pool_ids)
    baselines = {
        name: metrics(order, labels, pool_ids) for name, order in baseline_orders(pool, topics).items()
    }
    return {"ranker": ranker, "baselines": baselines}


# ------------------------------------------------------------------ held-out evaluation over months

SHOWN = 10  # precision@10: the digest's picks
BOOTSTRAP_ROUNDS = 2000
INTERVAL = (5.0, 95.0)  # a 90% interval


def discover_months(data: Path) -> tuple[list[str], list[str]]:
    """Labelled months under `data` (a `labels-M.json` with its `pool-M.jsonl.gz`), oldest first, and
    a sentence for each labels file skipped because its pool is missing."""
    months, skipped = [], []
    for path in sorted(data.glob("labels-*.json")):
        month = path.name.removeprefix("labels-").removesuffix(".json")
        if (data / f"pool-{month}.jsonl.gz").is_file():
            months.append(month)
        else:
            skipped.append(f"{month}: no pool-{month}.jsonl.gz beside its labels, skipped")
    return months, skipped


def positives_of(labels: Labels) -> frozenset[str]:
    """What a month is fitted and measured on: its popular list when it has one, else its picks."""
    return labels.popular if labels.popular is not None else labels.picks


def hit_ranks(order: Sequence[str], positives: Collection[str]) -> np.ndarray:
    """0-based rank of each positive found in `order` (positives outside it are left out)."""
    wanted = set(positives)
    return np.array([rank for rank, paper in enumerate(order) if paper in wanted], dtype=np.int64)


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.2f}–{self.high:.2f}]"


def recall_interval(ranks: np.ndarray, n_positives: int, k: int, seed: int) -> Interval:
    """recall@k with a bootstrap 90% interval: the positives resampled with replacement (seeded)."""
    if n_positives == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    hit = np.zeros(n_positives, dtype=bool)
    hit[: int(np.count_nonzero(ranks < k))] = True
    draws = np.random.default_rng(seed).integers(0, n_positives, size=(BOOTSTRAP_ROUNDS, n_positives))
    resampled = hit[draws].mean(axis=1)
    low, high = np.percentile(resampled, INTERVAL)
    return Interval(float(hit.mean()), float(low), float(high))


def precision_interval(ranks: np.ndarray, n_positives: int, k: int, seed: int) -> Interval:
    """precision@k (positives among the first k) with the same bootstrap over the positives: each
    resample counts its positives that fall in the first k."""
    if n_positives == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    hit = np.zeros(n_positives, dtype=bool)
    hit[: int(np.count_nonzero(ranks < k))] = True
    draws = np.random.default_rng(seed).integers(0, n_positives, size=(BOOTSTRAP_ROUNDS, n_positives))
    resampled = np.minimum(hit[draws].sum(axis=1), k) / k
    low, high = np.percentile(resampled, INTERVAL)
    return Interval(float(hit.sum() / k), float(low), float(high))


def order_by(scores: Sequence[float] | np.ndarray, ids: Sequence[str]) -> list[str]:
    """Ids best first by score, ties to the lower id (as `rank_month` breaks them)."""
    values = np.asarray(scores, dtype=np.float64)
    rows = sorted(range(len(ids)), key=lambda i: (-values[i], ids[i]))
    return [ids[i] for i in rows]


def upvotes_order(pool: Sequence[Candidate], rest: Sequence[str]) -> list[str]:
    """ "Upvotes only": the papers with a Hugging Face upvote reading, most upvoted first, then the
    others in the order of `rest` (newest first in the report). What a team reading the Daily Papers
    top list instead of the bot would see."""
    upvoted = [c for c in pool if UPVOTES in c.signals]
    first = [c.arxiv_id for c in sorted(upvoted, key=lambda c: (-c.signals[UPVOTES], c.arxiv_id))]
    seen = set(first)
    return first + [i for i in rest if i not in seen]


def peer_texts(pool: Sequence[Candidate]) -> list[str]:
    """What the arxiv-sanity-style peer reads of a paper: its title and abstract."""
    return [f"{c.title}. {c.abstract}" for c in pool]


def peer_features(texts: Sequence[str]) -> Any:
    """tf-idf rows over uni- and bigrams (sublinear tf, l2), fitted on all the texts given at once,
    as arxiv-sanity-lite fits one tf-idf over its whole database (no labels are used)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectoriser = TfidfVectorizer(
        lowercase=True,
        strip_accents="unicode",
        stop_words="english",
        ngram_range=(1, 2),
        max_features=20_000,
        min_df=5,
        max_df=0.1,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return vectoriser.fit_transform(texts)


def peer_scores(train: Any, picked: np.ndarray, test: Any) -> np.ndarray:
    """A linear SVM of the earlier months' picks against their other papers (class-balanced), as
    arxiv-sanity-lite ranks for a user's tag; the test month's papers by its decision value."""
    from sklearn.svm import LinearSVC

    model = LinearSVC(C=0.01, class_weight="balanced", max_iter=5000, tol=1e-5, random_state=0)
    model.fit(train, picked)
    return np.asarray(model.decision_function(test), dtype=np.float64)
