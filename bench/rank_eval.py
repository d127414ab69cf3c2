"""Measure the ranker on the labelled development months and write docs/ranking.md's tables.

    python bench/rank_eval.py [--data ../shared/data/bench] [--write docs/ranking.md] [--fit]
        [--embeddings MODEL [--embedding-cache DIR]]

Prints, per month, the ranker and the baselines (recall@10/50/200, 2021 precision@50); the
leave-one-month-out result of the learned prior coefficients (fitted on two months, ranked on the
third); and an ablation (the ranker with one component or one cue switched off). --fit prints the
coefficients fitted on all three months, to paste into `priors.PRIOR_COEFFICIENTS`. With --write,
replaces the text between the `<!-- eval:start -->` and `<!-- eval:end -->` markers of the file.

--embeddings MODEL (a model directory or a package bundling one, as `embedding_model`; needs the
`embeddings` extra) adds a leave-one-month-out row where the embedding component's weight is fitted with
the cues on the other two months. Each distinct text is embedded once: vectors are cached in
--embedding-cache (default /tmp/trends-embedding-cache, outside the repository) by the text's SHA-1.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.ranking import DEFAULT_TOPICS
from bot.ranking.embedding import Embedder, EmbeddingMatrix, load_embedder, normalised
from bot.ranking.evaluation import Labels, evaluate, load_labels, load_pool, metrics, ranker_order
from bot.ranking.learn import MonthFeatures, fit_prior_coefficients, month_features, with_hand_set
from bot.ranking.priors import LEARNED_CUES, PRIOR_COEFFICIENTS
from bot.ranking.types import Candidate
from bot.settings import RankingWeights

MONTHS = ("2025-04", "2025-05", "2021-06")
METRICS = ("recall@10", "recall@50", "recall@200", "precision@50")
START, END = "<!-- eval:start -->", "<!-- eval:end -->"


class CachedEmbedder:
    """An `Embedder` that embeds each distinct text once across runs (vectors kept as .npz files of
    `keys` = SHA-1 of the text and `vectors`); the model is loaded only when a text is missing."""

    def __init__(self, model: str, cache: Path) -> None:
        self.model = model
        self.cache = cache
        self.vectors: dict[str, np.ndarray] = {}
        self._embedder: Embedder | None = None
        cache.mkdir(parents=True, exist_ok=True)
        for path in sorted(cache.glob("*.npz")):
            with np.load(path) as stored:
                self.vectors.update(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def __call__(self, texts: Sequence[str], /) -> EmbeddingMatrix:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}
        if missing:
            if self._embedder is None:
                self._embedder = load_embedder(self.model)
                assert self._embedder is not None
            started = time.perf_counter()
            fresh = self._embedder(list(missing.values()))
            print(f"embedded {len(missing):,} texts in {time.perf_counter() - started:.1f}s")
            self.vectors.update(zip(missing, fresh, strict=True))
            np.savez(self.cache / f"added-{time.time_ns()}.npz", keys=np.array(list(missing)), vectors=fresh)
        return normalised(np.vstack([self.vectors[k] for k in keys]))


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def positives(labels: Labels) -> frozenset[str]:
    """What a month's fit learns from: its popular list when it has one (2021), else its picks."""
    return labels.popular if labels.popular is not None else labels.picks


def headline(values: dict[str, Any]) -> str:
    return fmt(values["precision@50"] if values["precision@50"] is not None else values["recall@50"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/bench"
    )
    parser.add_argument("--write", type=Path)
    parser.add_argument("--fit", action="store_true", help="print coefficients fitted on all months")
    parser.add_argument("--embeddings", metavar="MODEL", help="model directory or package (embedding_model)")
    parser.add_argument("--embedding-cache", type=Path, default=Path("/tmp/trends-embedding-cache"))
    args = parser.parse_args()
    embedder = CachedEmbedder(args.embeddings, args.embedding_cache) if args.embeddings else None
    default = RankingWeights()
    months: dict[str, tuple[list[Candidate], Labels]] = {
        m: (load_pool(args.data / f"pool-{m}.jsonl.gz"), load_labels(args.data / f"labels-{m}.json"))
        for m in MONTHS
    }
    features: dict[str, MonthFeatures] = {
        m: month_features(pool, DEFAULT_TOPICS, positives(labels)) for m, (pool, labels) in months.items()
    }
    embedded: dict[str, MonthFeatures] = {}
    if embedder is not None:
        embedded = {
            m: month_features(pool, DEFAULT_TOPICS, positives(labels), embedder=embedder)
            for m, (pool, labels) in months.items()
        }
    if args.fit:
        print("fitted on all months:", fit_prior_coefficients(list(features.values())))
        if embedded:
            print("with embeddings:", fit_prior_coefficients(list(embedded.values())))

    lines = ["### Ranker vs baselines", ""]
    lines.append("| month | method | " + " | ".join(METRICS) + " |")
    lines.append("|---|---|" + "---:|" * len(METRICS))
    for month, (pool, labels) in months.items():
        started = time.perf_counter()
        report: dict[str, Any] = evaluate(pool, labels, topics=DEFAULT_TOPICS, weights=default)
        print(f"{month}: evaluated in {time.perf_counter() - started:.1f}s")
        for name, values in [("**ranker**", report["ranker"]), *report["baselines"].items()]:
            lines.append(f"| {month} | {name} | " + " | ".join(fmt(values[k]) for k in METRICS) + " |")

    lines += ["", "### Leave-one-month-out (learned weights fitted on the other two months)", ""]
    lines.append("| held-out month | ranker | fitted on | " + " | ".join(METRICS) + " |")
    lines.append("|---|---|---|" + "---:|" * len(METRICS))
    lomo: list[tuple[str, dict[str, MonthFeatures], Embedder | None]] = [("cues (shipped)", features, None)]
    if embedder is not None:
        lomo.append(("cues + embedding", embedded, embedder))
    for month, (pool, labels) in months.items():
        others = [m for m in MONTHS if m != month]
        for label, fit_on, month_embedder in lomo:
            fitted = fit_prior_coefficients([fit_on[m] for m in others])
            embedding_weight = max(fitted.pop("embedding", 0.0), 0.0)
            coefficients = with_hand_set(fitted, PRIOR_COEFFICIENTS)
            weights = default.model_copy(update={"embedding": embedding_weight})
            values = metrics(
                ranker_order(pool, DEFAULT_TOPICS, weights, coefficients, month_embedder),
                labels,
                frozenset(c.arxiv_id for c in pool),
            )
            lines.append(
                f"| {month} | {label} | {', '.join(others)} | "
                + " | ".join(fmt(values[k]) for k in METRICS)
                + " |"
            )
            print(lines[-1])
            shown = ", ".join(f"{k} {v:+.2f}" for k, v in coefficients.items() if k in LEARNED_CUES)
            if month_embedder is not None:
                shown = f"embedding {embedding_weight:+.2f}, {shown}"
            lines.append(f"| | | *{shown}* | | | | |")

    Variant = tuple[str, RankingWeights, dict[str, float] | None, Embedder | None]
    variants: list[Variant] = [("full ranker", default, None, None)]
    for component in ("relevance", "priors"):
        variants.append((f"− {component}", default.model_copy(update={component: 0.0}), None, None))
    for cue, value in PRIOR_COEFFICIENTS.items():
        if value:
            variants.append((f"− cue: {cue}", default, {**PRIOR_COEFFICIENTS, cue: 0.0}, None))
    if embedder is not None:
        for weight in (0.5, 1.0, 2.0):
            on = default.model_copy(update={"embedding": weight})
            variants.append((f"+ embedding (weight {weight}, in-sample)", on, None, embedder))
    lines += ["", "### Ablation (shipped ranker minus or plus one part; shipped coefficients)", ""]
    header = (
        " | ".join(f"{m} {k}" for m in MONTHS for k in ("recall@50", "recall@200"))
        + " | 2021-06 precision@50"
    )
    lines.append(f"| variant | {header} |")
    lines.append("|---|" + "---:|" * (2 * len(MONTHS) + 1))
    for label, weights, coefficients, variant_embedder in variants:
        cells: list[str] = []
        precision = None
        for pool, labels in months.values():
            ids = frozenset(c.arxiv_id for c in pool)
            order = ranker_order(pool, DEFAULT_TOPICS, weights, coefficients, variant_embedder)
            values = metrics(order, labels, ids)
            cells += [fmt(values["recall@50"]), fmt(values["recall@200"])]
            precision = values["precision@50"] if values["precision@50"] is not None else precision
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {fmt(precision)} |")
        print(lines[-1])
    text = "\n".join(lines)
    print(text)
    if args.write:
        doc = args.write.read_text(encoding="utf-8")
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        args.write.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
