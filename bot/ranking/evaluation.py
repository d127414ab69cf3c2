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
import random
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from bot.errors import NotFoundError, ValidationError
from bot.ranking.default_topics import DEFAULT_TOPICS
from bot.ranking.embedding import Embedder
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
) -> list[str]:
    """The ranker's list as a reader meets it: picks, then other papers, then the rest by score."""
    selection = rank_month(
        pool, topics, weights=weights, prior_coefficients=prior_coefficients, embedder=embedder
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
        "topic_bm25": [p.candidate.arxiv_id for p in rank_month(pool, topics, weights=bm25_only).ranked],
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
