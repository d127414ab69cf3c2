"""Speed and memory of ranking a 25,000-paper month end to end (score + select + compose).

    python bench/rank_month.py [--data ../shared/data/bench] [--papers 25000]

Builds the month by concatenating the real development pools and duplicating papers under new ids,
then prints wall and CPU time (time.process_time: other jobs share the cores) and the
process's peak RSS. Goal: ≤1 s median and ≤1 GB on 2 cores, with the shipped learned model
(`bot/ranking/model.json`, read once per process: its load is timed apart, as is fitting it, which
`bench/rank_fit.py` reports).

`rank_month` builds a `ScoredPaper` only for the papers it picks and those a caller reads from
`Selection.ranked`; the "build ScoredPaper" line is what reading all of them costs (the offline
evaluation does), outside the end-to-end figure. "compose" is what follows in memory: the offline
summarizer's Why/Key insights for the picks and other papers, and the intro naming the topics.
`--repeat N` runs it all N times and reports the best and the median, which steadies the figure when
other jobs share the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import time
from pathlib import Path

from bot.digest.service import compose_intro
from bot.digest.summarize import OfflineSummarizer
from bot.ranking import DEFAULT_TOPICS, Candidate, rank_month
from bot.ranking.evaluation import load_pool
from bot.ranking.model import load_model
from bot.ranking.rank import score_papers
from bot.settings import RankingWeights


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/bench"
    )
    parser.add_argument("--papers", type=int, default=25_000)
    parser.add_argument("--repeat", type=int, default=1, help="run rank_month this many times")
    args = parser.parse_args()
    pool = [paper for path in sorted(args.data.glob("pool-*.jsonl.gz")) for paper in load_pool(path)]
    month: list[Candidate] = []
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
    model = load_model()
    print(f"load the shipped model         {time.perf_counter() - started:6.3f} s (once per process)")
    started = time.perf_counter()
    scored = score_papers(month, DEFAULT_TOPICS, weights=weights, examples={}, model=model)
    score_time = time.perf_counter() - started
    ranked = [scored.paper(i) for i in range(len(month))]
    build_time = time.perf_counter() - started - score_time
    summarizer = OfflineSummarizer()
    runs: list[tuple[float, float, float, float]] = []
    picked = ""
    for _ in range(max(args.repeat, 1)):
        started, cpu_started = time.perf_counter(), time.process_time()
        selection = rank_month(month, DEFAULT_TOPICS, weights=weights)
        ranked_at, ranked_cpu = time.perf_counter(), time.process_time()
        summaries = [
            summarizer.summarize(p.candidate.title, p.candidate.abstract)
            for p in (*selection.picks, *selection.others)
        ]
        intro = compose_intro(selection.picks, len(month))
        runs.append(
            (
                ranked_at - started,
                ranked_cpu - cpu_started,
                time.perf_counter() - started,
                time.process_time() - cpu_started,
            )
        )
        picked = f"picks {len(selection.picks)}, others {len(selection.others)}, {len(summaries)} summaries"
        assert intro
        assert all(s.why and s.insights for s in summaries)
        del selection  # not alive during the next run, so the peak RSS is one run's
    total, cpu, composed, composed_cpu = min(runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"score (all components)      {score_time:6.2f} s")
    print(f"build ScoredPaper × {len(ranked):,}  {build_time:6.2f} s")
    print(f"rank_month end to end       {total:6.2f} s wall, {cpu:5.2f} s CPU  (score + sort + select)")
    print(
        f"  + compose (summaries, intro) {composed:5.2f} s wall, {composed_cpu:5.2f} s CPU  (goal's figure)"
    )
    if len(runs) > 1:
        walls = sorted(run[2] for run in runs)
        median, worst = walls[len(walls) // 2], walls[-1]
        print(f"  best of {len(runs)} above; with compose median {median:.2f} s wall, worst {worst:.2f} s")
    print(f"load average (1 min)        {os.getloadavg()[0]:6.2f}  (other jobs inflate wall time)")
    print(picked)
    print(f"peak RSS                    {peak_mb:6.0f} MB (includes the loaded pools)")


if __name__ == "__main__":
    main()
