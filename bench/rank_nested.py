"""How much did choosing the hyper-parameters on the rolling-origin results flatter them? Nested selection.

    python bench/rank_nested.py [--data ../shared/data/bench] [--write docs/ranking.md]
        [--c 0.01 0.02 0.05 0.2] [--word-scale 0.5 1 2] [--abstract-scale 1] [--inner 3]
        [--min-inner 2] [--no-peer]

`bench/rank_eval.py` fits the model with the shipped C, title-word and abstract-word scales
(`learn.MODEL_C`, `WORD_SCALE`, `ABSTRACT_SCALE`), which were picked by looking at its own
rolling-origin medians. Here the setting (C, title-word scale, abstract-word scale; the abstract
scale stays at the shipped 1 unless `--abstract-scale 0 0.5 1` searches it too; the grid must hold
the shipped setting) is chosen, for every outer test month t (the 4th labelled month on, as there),
using ONLY months before t:

- inner rolling-origin: the last `--inner` months before t that have at least three earlier months
  to learn from are each ranked by a model fitted on the months before *them*, for every setting
  of the grid; the one with the highest mean recall@50 over them wins (scored directly, without
  the digest's diversity step, as the ablation is; ties go to the setting nearest the shipped one).
  With fewer than `--min-inner` such months, t gets the shipped setting and is marked "default".
- the chosen setting is then fitted on all months before t and t is ranked by `rank_month`, exactly
  as rank_eval's headline rows are, next to the same fit with the shipped setting ("fixed").

An inner month's score under a setting depends only on the months before it, so each (month,
setting) is fitted once and reused by every later t; nothing from t or after it enters t's choice.
The same rule applied to all labelled months (validated on the last `--inner`) says what nested
selection would ship. Reports per month the chosen setting, recall@50 with its 90% interval and the
ratio to the best simple baseline, both arms' summary figures side by side, and a paired bootstrap
over the outer months (2,000 rounds, seeded) of the difference in median ratio and in mean
recall@50. Deterministic: the fits are lbfgs on fixed data and every bootstrap is seeded. Reserved
months are skipped by `rank_eval.load_months`. Prints progress with the elapsed time.

With --write, replaces the text between `<!-- nested:start -->` and `<!-- nested:end -->`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench` as a package when run as a script

from bench.rank_eval import (
    BASELINE_NAMES,
    DEFAULT_DATA,
    FIRST_TESTED,
    Month,
    Row,
    fast_order,
    fit,
    goal_table,
    load_months,
    measure,
    peer_row,
    ranker_row,
)
from bot.ranking.learn import ABSTRACT_SCALE, MODEL_C, WORD_SCALE

START, END = "<!-- nested:start -->", "<!-- nested:end -->"
PAIRED_ROUNDS = 2_000
PAIRED_SEED = 20_251_207

Setting = tuple[float, float, float]  # (C, title-word scale, abstract-word scale)
SHIPPED: Setting = (MODEL_C, WORD_SCALE, ABSTRACT_SCALE)


def distance_to_shipped(setting: Setting) -> float:
    """How far `setting` is from the shipped one on a log scale (the tie-break: stay near what ships)."""
    return (
        abs(math.log(setting[0] / SHIPPED[0]))
        + abs(math.log(setting[1] / SHIPPED[1]))
        + abs(setting[2] - SHIPPED[2])
    )


def inner_months(outer: int, inner: int) -> list[int]:
    """Indices of the validation months for outer month `outer`: the last `inner` before it that have
    at least `FIRST_TESTED` earlier months to be fitted on."""
    return list(range(max(FIRST_TESTED, outer - inner), outer))


def choose(
    candidates: Sequence[int], grid: Sequence[Setting], inner_recall: dict[tuple[int, Setting], float]
) -> tuple[Setting, float]:
    """The setting with the best mean inner recall@50 over `candidates` (ties to the shipped setting's
    neighbourhood), and that mean."""

    def key(setting: Setting) -> tuple[float, float]:
        mean = float(np.mean([inner_recall[(j, setting)] for j in candidates]))
        return (-round(mean, 9), distance_to_shipped(setting))

    best = min(grid, key=key)
    return best, -key(best)[0]


def ratio_to_baseline(model: float, rows: dict[str, Row]) -> tuple[float, str, float]:
    best_name = max(BASELINE_NAMES, key=lambda n: rows[n].recall[50].value)
    best = rows[best_name].recall[50].value
    return (model / best if best > 0 else float("inf")), best_name, best


def paired_median_difference(
    nested: Sequence[float], fixed: Sequence[float], *, use_median: bool
) -> tuple[float, float, float]:
    """(nested − fixed) of the median (or mean) over the months, with a 90% interval from resampling
    the months with replacement, the two arms together (seeded)."""
    a, b = np.asarray(nested, dtype=np.float64), np.asarray(fixed, dtype=np.float64)
    stat = np.median if use_median else np.mean
    draws = np.random.default_rng(PAIRED_SEED).integers(0, a.size, size=(PAIRED_ROUNDS, a.size))
    differences = stat(a[draws], axis=1) - stat(b[draws], axis=1)
    low, high = np.percentile(differences, [5, 95])
    return float(stat(a) - stat(b)), float(low), float(high)


def setting_text(setting: Setting) -> str:
    abstract = "" if setting[2] == SHIPPED[2] else f", abstract words ×{setting[2]:g}"
    return f"C {setting[0]:g}, words ×{setting[1]:g}{abstract}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--c", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.2])
    parser.add_argument("--word-scale", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--abstract-scale", type=float, nargs="+", default=[ABSTRACT_SCALE])
    parser.add_argument("--inner", type=int, default=3, help="validation months before each test month")
    parser.add_argument("--min-inner", type=int, default=2, help="fewer: the shipped setting, marked")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"skipped: {args.data} is not there (the labelled months live beside the repo)")
    grid: list[Setting] = [(c, w, a) for c in args.c for w in args.word_scale for a in args.abstract_scale]
    if SHIPPED not in grid:
        raise SystemExit(f"the grid must include the shipped setting {SHIPPED}")
    began = time.perf_counter()

    def elapsed() -> str:
        return f"[{time.perf_counter() - began:6.0f}s]"

    months, vocabulary, peer = load_months(args.data, with_peer=not args.no_peer)
    n = len(months)
    print(
        f"{elapsed()} {n} months loaded; grid of {len(grid)} settings: {', '.join(map(setting_text, grid))}"
    )

    # Inner scores: month j ranked by the model fitted on months[:j], for every setting (fitted once).
    inner_recall: dict[tuple[int, Setting], float] = {}
    for j in range(FIRST_TESTED, n):
        for setting in grid:
            model = fit(
                months[:j], vocabulary, c=setting[0], word_scale=setting[1], abstract_scale=setting[2]
            )
            order = fast_order(months[j], model, vocabulary)
            inner_recall[(j, setting)] = measure(months[j], "inner", order).recall[50].value
        best, _ = choose([j], grid, inner_recall)  # the same tie-break as the selection
        print(
            f"{elapsed()} inner {months[j].label}: shipped {inner_recall[(j, SHIPPED)]:.3f}, "
            f"best {inner_recall[(j, best)]:.3f} ({setting_text(best)})"
        )

    # Outer months: the chosen setting and the shipped setting, each fitted on all months before t.
    fixed_results: dict[str, dict[str, Row]] = {}
    nested_results: dict[str, dict[str, Row]] = {}
    chosen: dict[str, tuple[Setting, str]] = {}
    for i in range(FIRST_TESTED, n):
        month, train = months[i], months[:i]
        candidates = inner_months(i, args.inner)
        if len(candidates) < args.min_inner:
            setting, how = SHIPPED, f"default ({len(candidates)} inner month{'s' * (len(candidates) != 1)})"
        else:
            setting, score = choose(candidates, grid, inner_recall)
            how = f"inner {months[candidates[0]].label}…{months[candidates[-1]].label}: {score:.3f}"
        chosen[month.label] = (setting, how)
        common: dict[str, Row] = {
            name: measure(month, name, order) for name, order in month.baselines.items()
        }
        common["previous ranker"] = ranker_row(month, None, "previous ranker (cues)")
        if peer is not None:
            common["peer (tf-idf + SVM)"] = peer_row(months, train, month, peer)
        fixed_model = fit(train, vocabulary)
        fixed_results[month.label] = {**common, "model": ranker_row(month, fixed_model, "fixed")}
        if setting == SHIPPED:
            nested_row = fixed_results[month.label]["model"]
        else:
            nested_model = fit(
                train, vocabulary, c=setting[0], word_scale=setting[1], abstract_scale=setting[2]
            )
            nested_row = ranker_row(month, nested_model, "nested")
        nested_results[month.label] = {**common, "model": nested_row}
        print(
            f"{elapsed()} outer {month.label}: {setting_text(setting)} ({how}); recall@50 nested "
            f"{nested_row.recall[50]} vs fixed {fixed_results[month.label]['model'].recall[50]}"
        )

    # What nested selection would ship: the same rule on every labelled month.
    final_candidates = inner_months(n, args.inner)
    final_setting, final_score = choose(final_candidates, grid, inner_recall)
    shipped_score = float(np.mean([inner_recall[(j, SHIPPED)] for j in final_candidates]))
    print(f"{elapsed()} final choice on all {n} months: {setting_text(final_setting)}")

    tested = months[FIRST_TESTED:]
    lines = per_month_table(tested, fixed_results, nested_results, chosen)
    fixed_summary = goal_table(fixed_results, tested)[1]
    nested_summary = goal_table(nested_results, tested)[1]
    lines += [
        "",
        f"- **fixed** (shipped {setting_text(SHIPPED)}): " + "; ".join(fixed_summary) + ".",
        "- **nested**: " + "; ".join(nested_summary) + ".",
    ]
    fixed_ratios = [
        ratio_to_baseline(fixed_results[m.label]["model"].recall[50].value, fixed_results[m.label])[0]
        for m in tested
    ]
    nested_ratios = [
        ratio_to_baseline(nested_results[m.label]["model"].recall[50].value, nested_results[m.label])[0]
        for m in tested
    ]
    fixed_recall = [fixed_results[m.label]["model"].recall[50].value for m in tested]
    nested_recall = [nested_results[m.label]["model"].recall[50].value for m in tested]
    median_diff = paired_median_difference(nested_ratios, fixed_ratios, use_median=True)
    mean_diff = paired_median_difference(nested_recall, fixed_recall, use_median=False)
    up = sum(a > b + 1e-9 for a, b in zip(nested_recall, fixed_recall, strict=True))
    down = sum(a < b - 1e-9 for a, b in zip(nested_recall, fixed_recall, strict=True))
    selected = [m for m in tested if not chosen[m.label][1].startswith("default")]
    same_setting = sum(chosen[m.label][0] == SHIPPED for m in selected)
    lines += [
        f"- **nested − fixed** (paired bootstrap over the {len(tested)} months, {PAIRED_ROUNDS:,} "
        f"rounds, 90%): median ratio {median_diff[0]:+.2f}× [{median_diff[1]:+.2f} to "
        f"{median_diff[2]:+.2f}]; mean recall@50 {mean_diff[0]:+.3f} [{mean_diff[1]:+.3f} to "
        f"{mean_diff[2]:+.3f}]; recall@50 higher on {up} months, lower on {down}, equal on "
        f"{len(tested) - up - down}; the shipped setting was chosen on {same_setting} of the {len(selected)} "
        f"months with enough history ({len(tested) - len(selected)} took it by default).",
        f"- **Chosen on all {n} months** (validated on "
        f"{', '.join(months[j].label for j in final_candidates)}): {setting_text(final_setting)}, inner mean "
        f"recall@50 {final_score:.3f} (shipped setting {shipped_score:.3f}).",
        "",
        f"*Grid: C ∈ {{{', '.join(f'{c:g}' for c in args.c)}}} × title-word scale ∈ "
        f"{{{', '.join(f'{w:g}' for w in args.word_scale)}}} × abstract-word scale ∈ "
        f"{{{', '.join(f'{a:g}' for a in args.abstract_scale)}}} ({len(grid)} settings); "
        f"inner: the last {args.inner} months "
        f"with ≥ {FIRST_TESTED} earlier ones, at least {args.min_inner}; "
        f"{time.perf_counter() - began:.0f} s on this machine.*",
    ]
    text = "\n".join(lines).rstrip() + "\n"
    print(text)
    if args.write:
        doc = args.write.read_text(encoding="utf-8")
        head, found, rest = doc.partition(START)
        if not found:
            raise SystemExit(f"{args.write} has no {START} marker")
        _, _, tail = rest.partition(END)
        args.write.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")


def per_month_table(
    tested: Sequence[Month],
    fixed: dict[str, dict[str, Row]],
    nested: dict[str, dict[str, Row]],
    chosen: dict[str, tuple[Setting, str]],
) -> list[str]:
    out = [
        "| month | pool | chosen (inner mean recall@50) | nested recall@50 [90% CI] | × | "
        "fixed recall@50 [90% CI] | × | best baseline |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for month in tested:
        setting, how = chosen[month.label]
        nested_row, fixed_row = nested[month.label]["model"], fixed[month.label]["model"]
        nested_ratio, best_name, best = ratio_to_baseline(nested_row.recall[50].value, nested[month.label])
        fixed_ratio = ratio_to_baseline(fixed_row.recall[50].value, fixed[month.label])[0]
        out.append(
            f"| {month.label} | {'abstracts' if month.full else 'listing'} | "
            f"{setting_text(setting)} ({how}) | "
            f"{nested_row.recall[50]} | {nested_ratio:.1f} | {fixed_row.recall[50]} | {fixed_ratio:.1f} | "
            f"{best:.3f} ({best_name}) |"
        )
    return out


if __name__ == "__main__":
    main()
