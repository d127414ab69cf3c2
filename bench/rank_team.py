"""Per-team learning, simulated on the labelled months: how much a team's own votes lift the ranking.

    python bench/rank_team.py [--data ../shared/data/bench] [--share 0.25 0.5] [--weight 1.0 2.0]

For each month from the 4th on (rolling-origin, as `bench/rank_eval.py`): the learned model is fitted
on the earlier months; a team is simulated that has voted 👍 on a `share` of each earlier month's
picks and 👎 on as many random non-picks of that month (seeded); 3,000 random earlier papers nobody
voted on are the background. `bot.ranking.team.fit_team_model` fits the team's word weights, and the
month is ranked by the model's score + weight × the team score (`team.team_scores`), against the
model alone. Prints recall@50 and precision@10 per month and the mean lift. The curators' picks
stand in for one team's taste here; a real team votes on the papers the bot showed it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench` as a package when run as a script

from bench.rank_eval import DEFAULT_DATA, FIRST_TESTED, fit, load_months, measure
from bot.ranking.corpus import build_corpus
from bot.ranking.evaluation import order_by
from bot.ranking.learn import score_training_month
from bot.ranking.team import fit_team_model, team_scores

BACKGROUND = 3_000
SEED = 20260418


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--share", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--weight", type=float, nargs="+", default=[1.0, 2.0])
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"skipped: {args.data} is not there (the labelled months live beside the repo)")
    months, vocabulary, _ = load_months(args.data, with_peer=False)
    lifts: dict[tuple[float, float], list[tuple[float, float]]] = {}
    print("| month | share | model recall@50 | + team (weight) recall@50 | model precision@10 | + team |")
    print("|---|---:|---:|---|---:|---|")
    for i in range(FIRST_TESTED, len(months)):
        month, earlier = months[i], months[:i]
        model = fit(earlier, vocabulary)
        base = score_training_month(model, month.train, vocabulary)
        ids = [c.arxiv_id for c in month.pool]
        alone = measure(month, "model", order_by(base, ids))
        corpus = build_corpus([c.title for c in month.pool], [c.abstract for c in month.pool])
        for share in args.share:
            rng = random.Random(f"{SEED}-{month.label}-{share}")
            liked, disliked, rest = [], [], []
            for m in earlier:
                picks = [c for c in m.pool if c.arxiv_id in m.positives]
                others = [c for c in m.pool if c.arxiv_id not in m.positives]
                shown = rng.sample(picks, round(share * len(picks)))
                liked += shown
                disliked += rng.sample(others, len(shown))
                rest += others
            started = time.perf_counter()
            team = fit_team_model(liked, disliked, rng.sample(rest, min(BACKGROUND, len(rest))))
            seconds = time.perf_counter() - started
            if team is None:
                continue
            scores = team_scores(team, corpus, len(ids))
            cells_recall, cells_precision = [], []
            for weight in args.weight:
                row = measure(month, "team", order_by(base + weight * scores, ids))
                lifts.setdefault((share, weight), []).append(
                    (
                        row.recall[50].value - alone.recall[50].value,
                        row.precision.value - alone.precision.value,
                    )
                )
                cells_recall.append(f"{row.recall[50].value:.3f} ({weight:g})")
                cells_precision.append(f"{row.precision.value:.1f} ({weight:g})")
            print(
                f"| {month.label} | {share:.2f} | {alone.recall[50].value:.3f} | {', '.join(cells_recall)} | "
                f"{alone.precision.value:.1f} | {', '.join(cells_precision)} |  <!-- {len(liked)} 👍, "
                f"fit {seconds:.1f}s -->",
                flush=True,
            )
    print()
    for (share, weight), values in sorted(lifts.items()):
        recall = np.mean([v[0] for v in values])
        precision = np.mean([v[1] for v in values])
        better = sum(v[0] > 1e-9 for v in values)
        worse = sum(v[0] < -1e-9 for v in values)
        print(
            f"share {share:.2f}, weight {weight:g}: mean recall@50 lift {recall:+.3f} "
            f"({better} months up, {worse} down of {len(values)}), mean precision@10 lift {precision:+.3f}"
        )


if __name__ == "__main__":
    main()
