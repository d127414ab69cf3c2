"""Measure the learned ranker held out on every labelled month and write docs/ranking.md's tables.

    python bench/rank_eval.py [--data ../shared/data/bench] [--write docs/ranking.md]
        [--no-lomo] [--no-ablation] [--no-peer]

Months are found by glob (`labels-M.json` with `pool-M.jsonl.gz`; one without its pool is skipped
with a reason) and sorted oldest first; the reserved months (2021-07, 2021-08, 2025-06, all of 2022)
are never read. Each month's features are computed once and kept in memory.

- Rolling-origin: for the 4th labelled month on, the model is fitted (`bot.ranking.learn.fit_model`,
  the same function `bench/rank_fit.py` ships) on the months before it only, and the month is ranked
  by `rank_month` with that model, as a deployment would (picks, other papers, then the rest).
- Leave-one-month-out: fitted on all the other months.
- Baselines: random (seeded), newest first, topic BM25, most authors first, "upvotes only" (papers
  with Hugging Face upvotes, most first, then newest first; months with upvotes), the previous
  round's ranker (hand-weighted cues, no model), and the arxiv-sanity-lite-style peer (one tf-idf of
  title + abstract over all months' papers, a linear SVM of the earlier months' picks vs non-picks).
- recall@10/50/200 of the month's positives in its pool (picks; 2021-06: its `extended_ranked`
  Twitter-popular list, with precision@50 too) and precision@10 (positives among the ten digest
  picks). Bootstrap 90% intervals resample the positives with replacement (2,000 rounds, seeded).
- Months with abstracts and listing-only months (titles, authors, categories) are reported apart.
- Momentum: the same rolling-origin models scored with and without their upvote stage.
- Ablation: rolling-origin, the model refitted without one group of features (scored directly,
  without the digest's diversity step).

With --write, replaces the text between `<!-- eval:start -->` and `<!-- eval:end -->` in the file.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.ranking import DEFAULT_TOPICS
from bot.ranking.evaluation import (
    SHOWN,
    Interval,
    Labels,
    baseline_orders,
    discover_months,
    hit_ranks,
    load_labels,
    load_pool,
    order_by,
    peer_features,
    peer_scores,
    peer_texts,
    positives_of,
    precision_interval,
    recall_interval,
    upvotes_order,
)
from bot.ranking.learn import TrainingMonth, fit_model, score_training_month, training_month
from bot.ranking.model import ABSTRACT_DEPENDENT, PRIMARY_CATEGORIES, RankerModel
from bot.ranking.rank import rank_month, score_papers
from bot.ranking.types import Candidate
from bot.settings import RankingWeights

START, END = "<!-- eval:start -->", "<!-- eval:end -->"
FIRST_TESTED = 3  # rolling-origin tests from the 4th labelled month: at least three to learn from
RECALL_AT = (10, 50, 200)
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/bench"
# Held back for a final, untouched test: never read, fitted, tuned or reported on by a bench.
RESERVED_MONTHS = frozenset({"2021-07", "2021-08", "2025-06"})
RESERVED_YEARS = ("2022-",)


def is_reserved(label: str) -> bool:
    """Whether month `label` ("YYYY-MM") is held back from every bench."""
    return label in RESERVED_MONTHS or label.startswith(RESERVED_YEARS)


ABLATIONS: dict[str, dict[str, Any]] = {
    "full model": {},
    "− topic relevance (relevance, title phrases)": {
        "drop": ("relevance", "relevance (abstract)", "title_topic")
    },
    "− generic cues (authors, output, title, release, scale, frontier)": {
        "drop": (
            "authors",
            "no_authors",
            "author_output",
            "concise",
            "named",
            "release",
            "scale",
            "frontier",
            *(f"{n} (abstract)" for n in ABSTRACT_DEPENDENT if n != "relevance"),
        )
    },
    "− authors and author output": {"drop": ("authors", "no_authors", "author_output")},
    "− scale and frontier": {"drop": ("scale", "frontier", "scale (abstract)", "frontier (abstract)")},
    "− categories": {"drop": ("cross_lists", *(f"primary {c}" for c in PRIMARY_CATEGORIES))},
    "− abstract indicators": {"drop": ("has_abstract", *(f"{n} (abstract)" for n in ABSTRACT_DEPENDENT))},
    "− title words": {"word_scale": 0.0},
    "− abstract words": {"abstract_scale": 0.0},
    "− momentum (upvote terms)": {"momentum": False},
}


@dataclass
class Month:
    label: str
    pool: list[Candidate]
    labels: Labels
    positives: frozenset[str]
    n_positives: int  # positives in the pool
    full: bool  # the pool has abstracts
    has_upvotes: bool
    train: TrainingMonth
    baselines: dict[str, list[str]]
    seed: int
    peer_rows: slice


@dataclass
class Row:
    month: str
    method: str
    recall: dict[int, Interval]
    precision: Interval
    precision50: float | None


def load_months(data: Path, *, with_peer: bool = True) -> tuple[list[Month], dict[str, int], Any]:
    labels_found, skipped = discover_months(data)
    for reason in skipped:
        print(reason)
    labels_found = [label for label in labels_found if not is_reserved(label)]
    vocabulary: dict[str, int] = {}
    months: list[Month] = []
    texts: list[str] = []
    no_model = RankingWeights(learned=0.0, momentum=0.0, feedback=0.0, embedding=0.0)
    for label in labels_found:
        started = time.perf_counter()
        raw = load_pool(data / f"pool-{label}.jsonl.gz")
        pool = list({c.arxiv_id: c for c in reversed(raw)}.values())[::-1]
        labels = load_labels(data / f"labels-{label}.json")
        positives = positives_of(labels)
        ids = [c.arxiv_id for c in pool]
        scored = score_papers(pool, DEFAULT_TOPICS, weights=no_model, examples={}, model=None)
        assert scored.inputs is not None
        mask = np.array([i in positives for i in ids])
        baselines = baseline_orders(pool, DEFAULT_TOPICS)
        has_upvotes = scored.inputs.has_upvotes
        if has_upvotes:
            baselines["upvotes only"] = upvotes_order(pool, baselines["newest"])
        full = sum(bool(c.abstract.strip()) for c in pool) >= len(pool) / 2
        months.append(
            Month(
                label=label,
                pool=pool,
                labels=labels,
                positives=positives,
                n_positives=int(mask.sum()),
                full=full,
                has_upvotes=has_upvotes,
                train=training_month(label, scored.inputs, mask, vocabulary),
                baselines=baselines,
                seed=int(label.replace("-", "")),
                peer_rows=slice(len(texts), len(texts) + len(pool)),
            )
        )
        texts += peer_texts(pool)
        print(
            f"{label}: {len(pool):,} papers, {mask.sum()} positives, "
            f"{'abstracts' if full else 'listing'}{', upvotes' if has_upvotes else ''} "
            f"({time.perf_counter() - started:.1f}s)"
        )
    if not with_peer:
        return months, vocabulary, None
    started = time.perf_counter()
    peer = peer_features(texts)
    print(f"peer tf-idf over {len(texts):,} papers: {time.perf_counter() - started:.1f}s")
    return months, vocabulary, peer


def measure(month: Month, method: str, order: Sequence[str], shown: Sequence[str] | None = None) -> Row:
    """Metrics of `order` (and precision@10 of `shown`, the digest's picks; default its first 10)."""
    ranks = hit_ranks(order, month.positives)
    recall = {k: recall_interval(ranks, month.n_positives, k, month.seed) for k in RECALL_AT}
    shown_ranks = hit_ranks(list(shown) if shown is not None else order[:SHOWN], month.positives)
    precision = precision_interval(shown_ranks, month.n_positives, SHOWN, month.seed)
    precision50 = None
    if month.labels.popular is not None:
        precision50 = float(np.count_nonzero(ranks < 50)) / 50
    return Row(month.label, method, recall, precision, precision50)


def ranker_row(month: Month, model: RankerModel | None, method: str) -> Row:
    selection = rank_month(month.pool, DEFAULT_TOPICS, weights=RankingWeights(), model=model)
    shown = [p.candidate.arxiv_id for p in (*selection.picks, *selection.others)]
    seen = set(shown)
    order = shown + [p.candidate.arxiv_id for p in selection.ranked if p.candidate.arxiv_id not in seen]
    return measure(month, method, order, [p.candidate.arxiv_id for p in selection.picks])


def fast_order(
    month: Month, model: RankerModel, vocabulary: dict[str, int], momentum: bool = True
) -> list[str]:
    scores = score_training_month(model, month.train, vocabulary, use_momentum=momentum)
    return order_by(scores, [c.arxiv_id for c in month.pool])


def peer_row(months: Sequence[Month], train: Sequence[Month], month: Month, peer: Any) -> Row:
    rows = np.concatenate([np.arange(m.peer_rows.start, m.peer_rows.stop) for m in train])
    picked = np.concatenate([m.train.positive for m in train])
    scores = peer_scores(peer[rows], picked, peer[month.peer_rows])
    return measure(month, "peer (tf-idf + SVM)", order_by(scores, [c.arxiv_id for c in month.pool]))


def fit(train: Sequence[Month], vocabulary: dict[str, int], **options: Any) -> RankerModel:
    return fit_model([m.train for m in train], vocabulary, **options)


def cell(interval: Interval, with_interval: bool = True) -> str:
    if np.isnan(interval.value):
        return "—"
    return str(interval) if with_interval else f"{interval.value:.3f}"


def month_table(rows: Sequence[Row], months: Sequence[Month]) -> list[str]:
    out = [
        "| month | method | recall@10 | recall@50 [90% CI] | recall@200 | precision@10 [90% CI] "
        "| precision@50 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        p50 = "—" if row.precision50 is None else f"{row.precision50:.2f}"
        out.append(
            f"| {row.month} | {row.method} | {cell(row.recall[10], False)} | {cell(row.recall[50])} | "
            f"{cell(row.recall[200], False)} | {cell(row.precision)} | {p50} |"
        )
    return out


BASELINE_NAMES = ("random", "newest", "topic_bm25", "authors")


def goal_table(results: dict[str, dict[str, Row]], months: Sequence[Month]) -> tuple[list[str], list[str]]:
    """Per month: the model's recall@50 vs the best simple baseline, the peer and upvotes only."""
    out = [
        "| month | pool | model recall@50 [90% CI] | best baseline | × | peer | upvotes only "
        "| previous ranker | model precision@10 | goals |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    ratios: list[float] = []
    above_peer: list[bool] = []
    above_upvotes: list[bool] = []
    precision: list[float] = []
    summary: list[str] = []
    for month in months:
        rows = results.get(month.label)
        if not rows:
            continue
        model = rows["model"].recall[50]
        best_name = max(BASELINE_NAMES, key=lambda n: rows[n].recall[50].value)
        best = rows[best_name].recall[50].value
        ratio = model.value / best if best > 0 else float("inf")
        ratios.append(ratio)
        peer = rows["peer (tf-idf + SVM)"].recall[50].value if "peer (tf-idf + SVM)" in rows else float("nan")
        upvotes = rows["upvotes only"].recall[50].value if "upvotes only" in rows else None
        precision.append(rows["model"].precision.value)
        if not np.isnan(peer):
            above_peer.append(model.value > peer)
        if upvotes is not None:
            above_upvotes.append(model.value > upvotes)
        goals = ["2×" if ratio >= 2 else "**<2×**"]
        if not np.isnan(peer):
            goals.append("> peer" if model.value > peer else "**≤ peer**")
        if upvotes is not None:
            goals.append("> upvotes" if model.value > upvotes else "**≤ upvotes**")
        out.append(
            f"| {month.label} | {'abstracts' if month.full else 'listing'} | {model} | "
            f"{best:.3f} ({best_name}) | {ratio:.1f} | {peer:.3f} | "
            f"{'—' if upvotes is None else f'{upvotes:.3f}'} | "
            f"{rows['previous ranker'].recall[50].value:.3f} | "
            f"{rows['model'].precision} | {', '.join(goals)} |"
        )
    if ratios:
        finite = [r for r in ratios if np.isfinite(r)]
        summary.append(
            f"median ratio to the best baseline {statistics.median(ratios):.2f}×; "
            f"months ≥ 2×: {sum(r >= 2 for r in ratios)}/{len(ratios)}, "
            f"≥ 3×: {sum(r >= 3 for r in ratios)}/{len(ratios)}; "
            f"lowest {min(finite) if finite else float('nan'):.2f}×; "
            f"above the peer {sum(above_peer)}/{len(above_peer)}; "
            f"above upvotes only {sum(above_upvotes)}/{len(above_upvotes)}; "
            f"mean precision@10 {statistics.mean(precision):.2f}"
        )
    return out, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--no-lomo", action="store_true")
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"skipped: {args.data} is not there (the labelled months live beside the repo)")
    months, vocabulary, peer = load_months(args.data, with_peer=not args.no_peer)
    lines: list[str] = []

    # Rolling-origin.
    rolling: dict[str, dict[str, Row]] = {}
    momentum_pairs: list[tuple[str, Row, Row]] = []
    fit_seconds: list[float] = []
    fitted: dict[str, RankerModel] = {}
    for i in range(FIRST_TESTED, len(months)):
        month, train = months[i], months[:i]
        started = time.perf_counter()
        model = fit(train, vocabulary)
        fit_seconds.append(time.perf_counter() - started)
        fitted[month.label] = model
        rows = {"model": ranker_row(month, model, "**model**")}
        rows["previous ranker"] = ranker_row(month, None, "previous ranker (cues)")
        if not args.no_peer:
            rows["peer (tf-idf + SVM)"] = peer_row(months, train, month, peer)
        for name, order in month.baselines.items():
            rows[name] = measure(month, name, order)
        if month.has_upvotes:
            with_m = measure(month, "with upvotes", fast_order(month, model, vocabulary, True))
            without = measure(month, "without", fast_order(month, model, vocabulary, False))
            momentum_pairs.append((month.label, with_m, without))
        rolling[month.label] = rows
        print(
            f"rolling {month.label}: model r@50 {rows['model'].recall[50]} p@10 {rows['model'].precision}; "
            + ", ".join(f"{k} {v.recall[50].value:.3f}" for k, v in rows.items() if k != "model")
            + f" (fit {fit_seconds[-1]:.1f}s)"
        )

    tested = months[FIRST_TESTED:]
    for title, group in (
        ("all months tested", tested),
        ("months with abstracts", [m for m in tested if m.full]),
        (
            "listing-only months (titles, authors, categories; no abstracts)",
            [m for m in tested if not m.full],
        ),
    ):
        table, summary = goal_table(rolling, group)
        if group is tested:
            lines += [f"**Rolling-origin, {title} ({len(group)}):** " + "; ".join(summary) + ".", ""]
            continue
        lines += [f"### Rolling-origin, {title}: goals", "", *table, "", *(f"*{s}*" for s in summary), ""]
    lines += ["### Rolling-origin, every method", ""]
    all_rows = [row for m in tested for row in rolling[m.label].values()]
    lines += [*month_table(all_rows, tested), ""]

    # Momentum.
    if momentum_pairs:
        lines += [
            "### Momentum: the upvote terms held out (rolling-origin, months with upvotes)",
            "",
            "The same rolling-origin model scored with and without its upvote terms (scored directly, "
            "without the digest's diversity step; the ablation below refits without them).",
            "",
            "| month | recall@50 with | without | precision@10 with | without | upvote terms fitted "
            "on the months before |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for label, with_m, without in momentum_pairs:
            model = fitted[label]
            stage = (
                f"upvotes percentile {model.momentum['upvotes_percentile'].coef:+.2f}, "
                f"featured {model.momentum['upvoted'].coef:+.2f}"
                if model.momentum
                else "none: no earlier month has upvotes, so the model has no upvote terms"
            )
            lines.append(
                f"| {label} | {with_m.recall[50]} | {without.recall[50]} | {with_m.precision} | "
                f"{without.precision} | {stage} |"
            )
        gains = [w.recall[50].value - wo.recall[50].value for _, w, wo in momentum_pairs]
        lines += [
            "",
            f"*mean recall@50 gain from the upvote terms: {np.mean(gains):+.3f} over {len(gains)} months "
            f"({sum(g > 1e-9 for g in gains)} up, {sum(g < -1e-9 for g in gains)} down)*",
            "",
        ]

    # Leave-one-month-out.
    if not args.no_lomo:
        lines += ["### Leave-one-month-out (fitted on all the other months)", ""]
        lomo_rows = []
        for month in months:
            model = fit([m for m in months if m is not month], vocabulary)
            lomo_rows.append(ranker_row(month, model, "model"))
            print(f"lomo {month.label}: r@50 {lomo_rows[-1].recall[50]} p@10 {lomo_rows[-1].precision}")
        lines += [*month_table(lomo_rows, months), ""]

    # Ablation.
    if not args.no_ablation:
        lines += [
            "### Ablation (rolling-origin, refitted without one group; scored without the diversity step)",
            "",
            "| variant | median recall@50 (abstracts) | median recall@50 (listing) "
            "| mean precision@10 (abstracts) "
            "| mean precision@10 (listing) | months better / worse than full (recall@50) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        reference: dict[str, float] = {}
        for name, options in ABLATIONS.items():
            per_month: dict[str, Row] = {}
            for i in range(FIRST_TESTED, len(months)):
                month = months[i]
                model = fit(months[:i], vocabulary, **options)
                per_month[month.label] = measure(month, name, fast_order(month, model, vocabulary))
            if not reference:
                reference = {k: r.recall[50].value for k, r in per_month.items()}
            better = sum(r.recall[50].value > reference[k] + 1e-9 for k, r in per_month.items())
            worse = sum(r.recall[50].value < reference[k] - 1e-9 for k, r in per_month.items())

            def stat(
                rows: list[Row], pick: Callable[[Row], float], how: Callable[[list[float]], float]
            ) -> str:
                return f"{how([pick(r) for r in rows]):.3f}" if rows else "—"

            full_rows = [per_month[m.label] for m in tested if m.full]
            listing_rows = [per_month[m.label] for m in tested if not m.full]
            lines.append(
                f"| {name} | {stat(full_rows, lambda r: r.recall[50].value, statistics.median)} | "
                f"{stat(listing_rows, lambda r: r.recall[50].value, statistics.median)} | "
                f"{stat(full_rows, lambda r: r.precision.value, statistics.mean)} | "
                f"{stat(listing_rows, lambda r: r.precision.value, statistics.mean)} | "
                f"{'—' if name == 'full model' else f'{better} / {worse}'} |"
            )
            print(lines[-1])
        lines.append("")
    lines.append(
        f"*Fitting one rolling-origin model took {statistics.median(fit_seconds):.1f} s (median) "
        "on this machine.*"
        if fit_seconds
        else ""
    )
    text = "\n".join(lines).rstrip() + "\n"
    print(text)
    if args.write:
        doc = args.write.read_text(encoding="utf-8")
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        args.write.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
