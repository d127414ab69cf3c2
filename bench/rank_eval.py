"""Measure the ranker on the labelled development months and write docs/ranking.md's tables.

    python bench/rank_eval.py [--data ../shared/data/bench] [--write docs/ranking.md] [--fit]

Prints, per month, the ranker and the baselines (recall@10/50/200, 2021 precision@50); the
leave-one-month-out result of the learned prior coefficients (fitted on two months, ranked on the
third); and an ablation (the ranker with one component or one cue switched off). --fit prints the
coefficients fitted on all three months, to paste into `priors.PRIOR_COEFFICIENTS`. With --write,
replaces the text between the `<!-- eval:start -->` and `<!-- eval:end -->` markers of the file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bot.ranking import DEFAULT_TOPICS
from bot.ranking.evaluation import Labels, evaluate, load_labels, load_pool, metrics, ranker_order
from bot.ranking.learn import MonthFeatures, fit_prior_coefficients, month_features, with_hand_set
from bot.ranking.priors import LEARNED_CUES, PRIOR_COEFFICIENTS
from bot.ranking.types import Candidate
from bot.settings import RankingWeights

MONTHS = ("2025-04", "2025-05", "2021-06")
METRICS = ("recall@10", "recall@50", "recall@200", "precision@50")
START, END = "<!-- eval:start -->", "<!-- eval:end -->"


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
    args = parser.parse_args()
    default = RankingWeights()
    months: dict[str, tuple[list[Candidate], Labels]] = {
        m: (load_pool(args.data / f"pool-{m}.jsonl.gz"), load_labels(args.data / f"labels-{m}.json"))
        for m in MONTHS
    }
    features: dict[str, MonthFeatures] = {
        m: month_features(pool, DEFAULT_TOPICS, positives(labels)) for m, (pool, labels) in months.items()
    }
    if args.fit:
        fitted = fit_prior_coefficients(list(features.values()))
        print("fitted on all months:", fitted)

    lines = ["### Ranker vs baselines", ""]
    lines.append("| month | method | " + " | ".join(METRICS) + " |")
    lines.append("|---|---|" + "---:|" * len(METRICS))
    for month, (pool, labels) in months.items():
        started = time.perf_counter()
        report: dict[str, Any] = evaluate(pool, labels, topics=DEFAULT_TOPICS, weights=default)
        print(f"{month}: evaluated in {time.perf_counter() - started:.1f}s")
        for name, values in [("**ranker**", report["ranker"]), *report["baselines"].items()]:
            lines.append(f"| {month} | {name} | " + " | ".join(fmt(values[k]) for k in METRICS) + " |")

    lines += ["", "### Leave-one-month-out (prior coefficients fitted on the other two months)", ""]
    lines.append("| held-out month | coefficients fitted on | " + " | ".join(METRICS) + " |")
    lines.append("|---|---|" + "---:|" * len(METRICS))
    for month, (pool, labels) in months.items():
        others = [m for m in MONTHS if m != month]
        coefficients = with_hand_set(
            fit_prior_coefficients([features[m] for m in others]), PRIOR_COEFFICIENTS
        )
        values = metrics(
            ranker_order(pool, DEFAULT_TOPICS, default, coefficients),
            labels,
            frozenset(c.arxiv_id for c in pool),
        )
        lines.append(
            f"| {month} | {', '.join(others)} | " + " | ".join(fmt(values[k]) for k in METRICS) + " |"
        )
        shown = ", ".join(f"{k} {v:+.2f}" for k, v in coefficients.items() if k in LEARNED_CUES)
        lines.append(f"| | *{shown}* | | | | |")
        print(lines[-2])

    variants: list[tuple[str, RankingWeights, dict[str, float] | None]] = [("full ranker", default, None)]
    for component in ("relevance", "priors"):
        variants.append((f"− {component}", default.model_copy(update={component: 0.0}), None))
    for cue, value in PRIOR_COEFFICIENTS.items():
        if value:
            variants.append((f"− cue: {cue}", default, {**PRIOR_COEFFICIENTS, cue: 0.0}))
    lines += ["", "### Ablation (shipped ranker minus one part)", ""]
    header = (
        " | ".join(f"{m} {k}" for m in MONTHS for k in ("recall@50", "recall@200"))
        + " | 2021-06 precision@50"
    )
    lines.append(f"| variant | {header} |")
    lines.append("|---|" + "---:|" * (2 * len(MONTHS) + 1))
    for label, weights, coefficients in variants:
        cells: list[str] = []
        precision = None
        for pool, labels in months.values():
            ids = frozenset(c.arxiv_id for c in pool)
            values = metrics(ranker_order(pool, DEFAULT_TOPICS, weights, coefficients), labels, ids)
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
