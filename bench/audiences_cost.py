"""What ten audiences cost over one: the monthly job's digests of a 25,000-paper month.

Loads the real papers of the development pools (repeated with new ids up to --papers) into a fresh
SQLite database as one month (not timed), creates --audiences audiences with different topics (three
of the default topics each, rotated), and times, with the offline summarizer and an emptied summary
cache before each run:

1. one audience's `DigestService.build` (load the month's candidates, rank, summarise, store);
2. every audience's build the way the monthly job does it (`run_digests`): the month's papers are
   read once (`load_month`) and shared;
3. every audience's build reading the month again each time (what sharing saves).

Prints wall and CPU time of each and the ratio of 2 to 1 (the issue's target: at most 3×). In 2, the
audiences share what does not depend on their topics (`MonthPapers`): the database read of the
month's papers and signals, the ranking features (`rank.prepare_month`: the tokenised corpus, prior
cues, the learned model's other inputs, momentum) and the month's context (its texts tokenised for
the topic counts, its emerging terms). Run 3 shares nothing. Run from the repository root:

    python -m bench.audiences_cost --papers 25000 --audiences 10
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete

from bench.digest_month import MONTH, month_records
from bot.audiences import AudienceService
from bot.bootstrap import Container, build
from bot.db.models import PaperSummary, Topic
from bot.digest.service import DigestService
from bot.harvest.harvester import store_records
from bot.ranking import DEFAULT_TOPICS
from bot.settings import load_settings


def make_audiences(container: Container, count: int) -> list[str]:
    service = AudienceService(container.uow, container.settings)
    names = [f"team-{k:02d}" for k in range(count)]
    for k, name in enumerate(names):
        service.create(name, actor="bench")
        chosen = [DEFAULT_TOPICS[(k + step * 3) % len(DEFAULT_TOPICS)] for step in range(3)]
        with container.uow() as uow:
            audience = service.get(name).id
            for spec in chosen:
                uow.session.add(
                    Topic(
                        audience_id=audience,
                        name=spec.name,
                        description=spec.description,
                        include_phrases=list(spec.include),
                        exclude_phrases=list(spec.exclude),
                        example_ids=list(spec.examples),
                        weight=spec.weight,
                        enabled=True,
                    )
                )
            uow.commit()
    return names


def timed(container: Container, work: Callable[[], object]) -> tuple[float, float]:
    with container.uow() as uow:  # every run summarises its picks afresh
        uow.session.execute(delete(PaperSummary))
        uow.commit()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=25_000)
    parser.add_argument("--audiences", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        container = build(load_settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}"))
        started = time.perf_counter()
        store_records(container.uow, month_records(args.papers))
        names = make_audiences(container, args.audiences)
        loaded = time.perf_counter() - started
        print(f"loaded {args.papers:,} papers and {len(names)} audiences in {loaded:.1f} s")
        importlib.import_module("bot.ranking.rank")  # once per process, not per month
        importlib.import_module("bot.digest.summarize")
        digests = DigestService(container.uow, container.settings)

        one = timed(container, lambda: digests.build(MONTH, audience=names[0]))

        def shared_run() -> None:
            papers = digests.load_month(MONTH)
            for name in names:
                digests.build(MONTH, audience=name, shared=papers)

        def unshared_run() -> None:
            for name in names:
                digests.build(MONTH, audience=name)

        many = timed(container, shared_run)
        unshared = timed(container, unshared_run)
        picks = {name: digests.get(MONTH, audience=name).picks for name in names}
        container.close()
    distinct = len({e.arxiv_id for entries in picks.values() for e in entries})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"1 audience:                 {one[0]:6.2f} s wall, {one[1]:6.2f} s CPU")
    print(f"{len(names)} audiences, shared month: {many[0]:6.2f} s wall, {many[1]:6.2f} s CPU")
    print(f"{len(names)} audiences, month re-read: {unshared[0]:6.2f} s wall, {unshared[1]:6.2f} s CPU")
    print(
        f"ratio {len(names)} shared / 1: {many[0] / one[0]:.2f}x wall, "
        f"{many[1] / one[1]:.2f}x CPU (target ≤ 3x)"
    )
    print(
        f"{sum(len(p) for p in picks.values())} picks, {distinct} distinct papers; peak RSS {peak_mb:.0f} MB"
    )
    print(f"load average (1 min) {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
