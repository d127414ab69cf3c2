"""Speed and memory of ranking a 25,000-paper month end to end (score + select).

    python bench/rank_month.py [--data ../shared/data/bench] [--papers 25000]

Builds the month by concatenating the real development pools and duplicating papers under new ids,
then prints wall and CPU time (time.process_time: other jobs share the cores) and the
process's peak RSS. Goal: ≤3 s and ≤1 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import time
from pathlib import Path

from bot.ranking import DEFAULT_TOPICS, rank_month
from bot.ranking.evaluation import load_pool
from bot.ranking.rank import score_papers
from bot.settings import RankingWeights


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/bench"
    )
    parser.add_argument("--papers", type=int, default=25_000)
    args = parser.parse_args()
    pool = [paper for path in sorted(args.data.glob("pool-*.jsonl.gz")) for paper in load_pool(path)]
    month = []
    copy = 0
    while len(month) < args.papers:
        for paper in pool[: args.papers - len(month)]:
            month.append(
                dataclasses.replace(paper, arxiv_id=f"{paper.arxiv_id}.{copy}" if copy else paper.arxiv_id)
            )
        copy += 1
    print(f"{len(month):,} papers, {len(DEFAULT_TOPICS)} topics, 2 cores assumed")
    weights = RankingWeights()
    started = time.perf_counter()
    scored = score_papers(month, DEFAULT_TOPICS, weights=weights, examples={})
    score_time = time.perf_counter() - started
    ranked = [scored.paper(i) for i in range(len(month))]
    build_time = time.perf_counter() - started - score_time
    started, cpu_started = time.perf_counter(), time.process_time()
    selection = rank_month(month, DEFAULT_TOPICS, weights=weights)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"score (all components)      {score_time:6.2f} s")
    print(f"build ScoredPaper × {len(ranked):,}  {build_time:6.2f} s")
    print(f"rank_month end to end       {total:6.2f} s wall, {cpu:5.2f} s CPU  (score + sort + select)")
    print(f"load average (1 min)        {os.getloadavg()[0]:6.2f}  (other jobs inflate wall time)")
    print(f"picks {len(selection.picks)}, others {len(selection.others)}")
    print(f"peak RSS                    {peak_mb:6.0f} MB (includes the loaded pools)")


if __name__ == "__main__":
    main()
