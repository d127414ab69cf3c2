"""Harvest throughput: how many papers per second go from an arXiv Atom feed into the database.

Serves N papers (default 10,000) from the fake arXiv server on 127.0.0.1 with no delay, and measures
- fetch+parse: the real `arxiv` client fetching every page and turning it into `PaperRecord`s (this
  includes the fake server rendering the feed, timed separately so it can be subtracted);
- upsert: `upsert_many` + commit per page of already-parsed records, into a fresh database;
- end to end: `Harvester.harvest` over the whole window (pages, upserts, checkpoints), fresh database;
- re-run: the same harvest again (every paper unchanged).
Goal: end to end ≥ 2,000 papers/s on SQLite.

Papers come from the benchmark pools in ../shared/data/bench (or $TRENDS_BENCH_DATA) when present,
read at run time, else from the team-written generator `tests.paper_corpus` (LaTeX, HTML, emoji and
other scripts included). All are moved into October 2026 under fresh ids so one window holds them.

    python bench/harvest_throughput.py [--papers 10000] [--page-size 2000]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench._corpus import BENCH_DATA, read_jsonl  # noqa: E402
from bot.db import migrations  # noqa: E402
from bot.db.engine import make_engine, make_session_factory  # noqa: E402
from bot.db.papers import upsert_many  # noqa: E402
from bot.db.uow import UnitOfWork  # noqa: E402
from bot.harvest.harvester import Harvester  # noqa: E402
from bot.harvest.source import ArxivSource, Window  # noqa: E402
from bot.paper_records import PaperRecord  # noqa: E402
from tests.fakes.arxiv_atom import render_feed  # noqa: E402
from tests.fakes.arxiv_server import FakeArxivServer  # noqa: E402
from tests.paper_corpus import generate_papers  # noqa: E402

MONTH_START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.IR", "stat.ML"]


def load_papers(count: int) -> tuple[list[PaperRecord], str]:
    base: list[PaperRecord] = []
    origin = "the team-written generator tests.paper_corpus"
    if BENCH_DATA.is_dir():
        seen: set[str] = set()
        for pool in sorted(BENCH_DATA.glob("pool-*.jsonl.gz")):
            for paper in read_jsonl(pool):
                if paper.arxiv_id not in seen:
                    seen.add(paper.arxiv_id)
                    base.append(
                        PaperRecord(
                            arxiv_id=paper.arxiv_id,
                            version=1,
                            title=paper.title,
                            abstract=paper.abstract,
                            authors=paper.authors,
                            categories=paper.categories,
                            primary_category=paper.categories[0],
                            submitted_at=paper.submitted_at,
                            updated_at=paper.submitted_at,
                        )
                    )
        if base:
            origin = f"benchmark pools in {BENCH_DATA}"
    if not base:
        base = generate_papers(min(count, 20_000))
    # Spread over October 2026 (31 days) under fresh ids, all in the harvested categories.
    spacing = dt.timedelta(days=31) / (count + 1)
    papers = []
    for i in range(count):
        record = base[i % len(base)]
        submitted = MONTH_START + spacing * (i + 1)
        categories = tuple(dict.fromkeys((CATEGORIES[i % len(CATEGORIES)], *record.categories)))
        papers.append(
            dataclasses.replace(
                record,
                arxiv_id=f"2610.{i + 1:05d}",
                categories=categories,
                primary_category=categories[0],
                submitted_at=submitted,
                updated_at=submitted,
            )
        )
    return papers, origin


class Timer:
    """Wall-clock and CPU time of this process (the fake server's thread included): on a shared,
    busy machine the CPU figure is the steadier one."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rate(self, count: int) -> str:
        return (
            f"{count / self.wall:>8,.0f} papers/s wall ({self.wall:6.2f} s), "
            f"{count / max(self.cpu, 1e-9):>8,.0f} papers/s of CPU ({self.cpu:6.2f} s)"
        )


def fresh_sqlite() -> tuple[str, Callable[[], None]]:
    folder = tempfile.TemporaryDirectory(prefix="trends-bench-")
    return f"sqlite:///{folder.name}/bench.db", folder.cleanup


def fresh_postgres(admin_url: str) -> tuple[str, Callable[[], None]]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"harvestbench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def run_engine(
    label: str,
    make_db: Callable[[], tuple[str, Callable[[], None]]],
    server: FakeArxivServer,
    papers: list[PaperRecord],
    page_size: int,
) -> None:
    window = Window.for_days(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    source = ArxivSource(
        api_url=server.url, page_size=page_size, delay_seconds=0.0, num_retries=1, timeout_seconds=120.0
    )

    # Upsert alone: parsed records, one unit of work per page, as the harvester commits them.
    url, cleanup = make_db()
    engine = make_engine(url)
    migrations.upgrade(engine)
    factory = make_session_factory(engine)
    with Timer() as upsert:
        for offset in range(0, len(papers), page_size):
            with UnitOfWork(factory) as uow:
                upsert_many(uow.session, papers[offset : offset + page_size])
                uow.commit()
    engine.dispose()
    cleanup()

    # End to end, then a re-run of the finished window.
    url, cleanup = make_db()
    engine = make_engine(url)
    migrations.upgrade(engine)
    factory = make_session_factory(engine)
    harvester = Harvester(lambda: UnitOfWork(factory), source)
    with Timer() as harvest:
        first = harvester.harvest(window.first.date(), window.last.date(), CATEGORIES)
    with Timer() as rerun:
        again = harvester.harvest(window.first.date(), window.last.date(), CATEGORIES)
    engine.dispose()
    cleanup()
    assert first.counts.inserted == len(papers), first.counts
    assert again.counts.unchanged == len(papers), again.counts

    print(f"[{label}]")
    print(f"  upsert only         {upsert.rate(len(papers))}")
    print(f"  harvest end to end  {harvest.rate(len(papers))}  [{first.pages} pages]")
    print(f"  re-run (unchanged)  {rerun.rate(len(papers))}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--pg-url", help="PostgreSQL admin URL; a throwaway database is created on it")
    args = parser.parse_args()

    papers, origin = load_papers(args.papers)
    print(f"{len(papers):,} papers from {origin}; page size {args.page_size}")

    with FakeArxivServer(papers) as server:
        # Rendering is the fake server's cost, not the harvest's: shown so it can be subtracted.
        with Timer() as render:
            for offset in range(0, len(papers), args.page_size):
                render_feed(
                    papers[offset : offset + args.page_size],
                    total=len(papers),
                    start=offset,
                    items_per_page=args.page_size,
                )
        source = ArxivSource(
            api_url=server.url,
            page_size=args.page_size,
            delay_seconds=0.0,
            num_retries=1,
            timeout_seconds=120.0,
        )
        window = Window.for_days(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
        with Timer() as fetch:
            fetched = 0
            while fetched < len(papers):
                fetched += len(source.fetch_page(window, CATEGORIES, fetched).records)
        print(f"  fake server render  {render.rate(len(papers))}")
        print(f"  fetch+parse (HTTP)  {fetch.rate(len(papers))}")

        run_engine("sqlite", fresh_sqlite, server, papers, args.page_size)
        if args.pg_url:
            run_engine("postgresql", lambda: fresh_postgres(args.pg_url), server, papers, args.page_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
