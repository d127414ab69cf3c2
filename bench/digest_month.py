"""End-to-end digest of a 25,000-paper month: what the monthly job does, timed stage by stage.

Loads the real papers of the three development pools (repeated with new ids up to --papers) into a
fresh SQLite database as one month (not timed), then times `DigestService.build` — loading the
candidates from the database, scoring, selection, the offline summarizer and storing the draft — and
rendering the Markdown. Prints wall and CPU time and peak RSS. Run from the repository root:

    python -m bench.digest_month --papers 25000
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import resource
import tempfile
import time
from pathlib import Path

from bench._corpus import load_pool
from bot.bootstrap import build
from bot.digest.render import render_markdown
from bot.digest.service import DigestService
from bot.harvest.harvester import store_records
from bot.paper_records import PaperRecord
from bot.settings import load_settings

MONTH = "2026-10"


def month_records(count: int) -> list[PaperRecord]:
    pool = load_pool()
    records: list[PaperRecord] = []
    copy = 0
    while len(records) < count:
        for index, paper in enumerate(pool[: count - len(records)]):
            submitted = dt.datetime(2026, 10, 1 + index % 31, 12, tzinfo=dt.UTC)
            records.append(
                PaperRecord(
                    arxiv_id=f"{2610 + copy}.{index:05d}",
                    version=1,
                    title=paper.title,
                    abstract=paper.abstract,
                    authors=paper.authors,
                    categories=paper.categories,
                    primary_category=paper.categories[0],
                    submitted_at=submitted,
                    updated_at=submitted,
                )
            )
        copy += 1
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=25_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        container = build(load_settings(database_url=url))
        started = time.perf_counter()
        store_records(container.uow, month_records(args.papers))
        print(
            f"loaded {args.papers:,} papers in {time.perf_counter() - started:.1f} s (not part of the digest)"
        )
        # The ranker and summarizer are imported on first use, once per process (~0.8 s): not part
        # of a month's job in a running bot, so loaded before the clock starts.
        importlib.import_module("bot.ranking.rank")
        importlib.import_module("bot.digest.summarize")
        service = DigestService(container.uow, container.settings)
        wall, cpu = time.perf_counter(), time.process_time()
        digest = service.build(MONTH)
        build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        markdown = render_markdown(digest)
        render_wall, render_cpu = time.perf_counter() - wall, time.process_time() - cpu
        container.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stage = "digest build (load + score + select + summarise + store)"
    print(f"{stage}: {build_wall:5.2f} s wall, {build_cpu:5.2f} s CPU")
    print(f"render Markdown ({len(markdown):,} chars): {render_wall:5.2f} s wall, {render_cpu:5.2f} s CPU")
    print(f"picks {len(digest.picks)}, others {len(digest.others)}; peak RSS {peak_mb:.0f} MB")
    print(f"load average (1 min) {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
