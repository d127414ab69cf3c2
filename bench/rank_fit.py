"""Fit the learned ranker on every labelled month and write the artefact `rank_month` ships with.

    python bench/rank_fit.py [--data ../shared/data/bench] [--out bot/ranking/model.json]

Reads the months as `bench/rank_eval.py` does (the same features, computed by the ranker itself),
fits `bot.ranking.learn.fit_model` with its default settings (the ones rank_eval measures held out),
and writes the coefficients as JSON. Deterministic: no random draw is involved (lbfgs on fixed data),
so the same data gives the same file byte for byte. Prints the fitting time, the file's size and the
largest coefficients.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench` as a package when run as a script

from bench.rank_eval import DEFAULT_DATA, load_months
from bot.ranking.learn import ABSTRACT_SCALE, MODEL_C, WORD_SCALE, fit_model
from bot.ranking.model import SHIPPED_PATH, RankerModel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=SHIPPED_PATH)
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"skipped: {args.data} is not there (the labelled months live beside the repo)")
    months, vocabulary, _ = load_months(args.data, with_peer=False)
    started = time.perf_counter()
    model = fit_model(
        [m.train for m in months],
        vocabulary,
        meta={
            "fitted_by": "bench/rank_fit.py",
            "months": [m.label for m in months],
            "papers": sum(len(m.pool) for m in months),
            "positives": sum(m.n_positives for m in months),
            "c": MODEL_C,
            "word_scale": WORD_SCALE,
            "abstract_scale": ABSTRACT_SCALE,
        },
    )
    seconds = time.perf_counter() - started
    text = model.to_json()
    args.out.write_text(text, encoding="utf-8")
    assert RankerModel.from_json(text) == model
    size = len(text.encode())
    print(f"fitted on {len(months)} months in {seconds:.1f}s; wrote {args.out} ({size:,} bytes)")
    for name, term in sorted(model.dense.items(), key=lambda item: -abs(item[1].coef)):
        print(f"  {name:<24} {term.coef:+.3f}")
    print(f"  title words: {len(model.words)}, abstract words: {len(model.abstract_words)}")
    if model.momentum:
        stage = ", ".join(f"{k} {t.coef:+.3f}" for k, t in model.momentum.items())
        print(f"  upvote terms: {stage}")


if __name__ == "__main__":
    main()
