"""Latency of the archive (`/trends`): search, trend data, chart rendering, emerging terms.

Builds an archive of --papers papers (default 100,000, recombined from the real pools by
`bench._corpus`, dates spread over 5 years) with --digests published digests (default 60, one per
month, 15 entries each, posted to a Slack channel), on SQLite and — with --pg-url or
TRENDS_TEST_DATABASE_URL — on a throwaway PostgreSQL database. Then it times a mix of queries and
prints p50/p95. Targets: search p95 ≤ 50 ms, trend data ≤ 100 ms, chart rendering ≤ 300 ms.

A second part times `trending` on a month of --trending-month papers (default 25,000) against three
previous months of the same size (SQLite), the size the emerging-terms code must cope with.

Wall times depend on what else the machine runs, so each line also gives CPU time (this process plus,
when PostgreSQL runs on this machine, its backend; see `bench.search_latency.CpuClock`) and the load
average. Chart rendering is timed once cold (importing matplotlib, building its font cache in memory)
and then steady, as a long-running bot renders it.

    python bench/archive_latency.py [--papers 100000] [--pg-url URL] [--skip-trending]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._corpus import CorpusPaper, load_pool, paper_rows, synthetic_papers
from bench.search_latency import CpuClock, load_average
from bot.archive.service import ArchiveService
from bot.archive.trend import render_trend_png
from bot.audiences import default_audience_id
from bot.db import migrations
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import DeliveredMessage, Delivery, Digest, DigestEntry, Paper, Subscription, Topic

FIRST = dt.datetime(2021, 11, 1, tzinfo=dt.UTC)
SPAN_MONTHS = 60

QUERIES = [
    "diffusion",
    "large language models",
    "video diffusion",
    '"retrieval augmented generation"',
    "reinforcement learning from human feedback",
    "graph neural networks",
    "agents tool use",
    "mixture of experts",
    "speculative decoding",
    "vision language model -survey",
    "author:Wang",
    "author:Zhang",
    "topic:agents",
    "topic:efficient-inference memory",
    "diffusion month:2025-05",
    "transformer since:2025-01",
    "quantum protein folding",
    'NEAR(llm AND) "unbalanced',
    "zero-shot segmentation",
    "federated learning privacy",
]
TREND_QUERIES = [*QUERIES[:10], "topic:agents", "learning"]


def spread(papers: Iterable[CorpusPaper], months: int, start: dt.datetime) -> list[CorpusPaper]:
    """Re-date papers evenly over `months` months (the corpus module spreads over two years)."""
    out = []
    for i, paper in enumerate(papers):
        index = i % months
        year, month = start.year + (start.month - 1 + index) // 12, (start.month - 1 + index) % 12 + 1
        day = 1 + (i // months) % 28
        when = dt.datetime(year, month, day, (i * 7) % 24, tzinfo=dt.UTC)
        out.append(replace(paper, submitted_at=when))
    return out


def load(url: str, papers: Sequence[CorpusPaper], digests: int) -> None:
    engine = make_engine(url)
    migrations.upgrade(engine)
    rows = paper_rows(papers)
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Paper.__table__), rows[start : start + 5000])
    session_factory = make_session_factory(engine)
    with session_factory() as session:
        ids = [row[0] for row in session.execute(text("SELECT id FROM papers ORDER BY id"))]
        audience = default_audience_id(session)
        subscription = Subscription(
            audience_id=audience, platform="slack", workspace_id="T1", channel_id="C1"
        )
        session.add(subscription)
        session.add(
            Topic(audience_id=audience, name="agents", include_phrases=["agents", "tool use", "multi-agent"])
        )
        session.add(
            Topic(
                audience_id=audience,
                name="efficient-inference",
                include_phrases=["quantization", "speculative decoding"],
            )
        )
        session.flush()
        for d in range(digests):
            index = SPAN_MONTHS - 1 - d
            month = (
                f"{FIRST.year + (FIRST.month - 1 + index) // 12:04d}-{(FIRST.month - 1 + index) % 12 + 1:02d}"
            )
            digest = Digest(
                audience_id=audience,
                month=month,
                status="published",
                title=f"Trends in AI — {month}",
                intro="",
            )
            digest.published_at = dt.datetime.now(dt.UTC)
            session.add(digest)
            session.flush()
            picks = [ids[(index + SPAN_MONTHS * k) % len(ids)] for k in range(15)]  # papers of that month
            for position, paper_id in enumerate(picks, start=1):
                section = "pick" if position <= 10 else "other"
                session.add(
                    DigestEntry(digest_id=digest.id, paper_id=paper_id, position=position, section=section)
                )
            delivery = Delivery(digest_id=digest.id, subscription_id=subscription.id, status="done")
            session.add(delivery)
            session.flush()
            session.add(DeliveredMessage(delivery_id=delivery.id, position=0, message_id=f"17000{d}.0001"))
            for position, paper_id in enumerate(picks[:10], start=1):
                session.add(
                    DeliveredMessage(
                        delivery_id=delivery.id,
                        position=position,
                        paper_id=paper_id,
                        message_id=f"17000{d}.{position:04d}",
                    )
                )
        session.commit()
    if url.startswith("postgresql"):
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def timed(
    func: Callable[[], object], repeat: int, clock: Callable[[], float]
) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of `repeat` calls after one warm-up call."""
    func()  # warm-up (connection pool, caches, lazy imports)
    walls, cpus = [], []
    for _ in range(repeat):
        cpu_started, started = clock(), time.perf_counter()
        func()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((clock() - cpu_started) * 1000)
    return walls, cpus


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(label: str, samples: tuple[list[float], list[float]], target: float | None = None) -> None:
    walls, cpus = samples
    verdict = "" if target is None else ("  OK" if p95(walls) <= target else f"  OVER {target:g} ms")
    print(
        f"  {label:<31} n={len(walls):<4} p50={statistics.median(walls):7.1f} ms  "
        f"p95={p95(walls):7.1f} ms  max={max(walls):7.1f} ms{verdict}"
    )
    print(f"  {'':<31} CPU p50={statistics.median(cpus):7.1f} ms  p95={p95(cpus):7.1f} ms")


def merged(*samples: tuple[list[float], list[float]]) -> tuple[list[float], list[float]]:
    return [w for s in samples for w in s[0]], [c for s in samples for c in s[1]]


def bench_engine(name: str, url: str, repeat: int) -> None:
    engine = make_engine(url)
    clock = CpuClock(engine)
    service = ArchiveService(make_session_factory(engine))
    print(f"\n{name} (load average {load_average()}):")
    report(
        "search (page 1, 20 queries)",
        merged(*(timed(lambda q=query: service.search(q), repeat, clock) for query in QUERIES)),
        50,
    )
    report(
        "search (page 3)",
        merged(*(timed(lambda q=query: service.search(q, page=3), repeat, clock) for query in QUERIES[:5])),
        50,
    )
    report(
        "trend data (12 months)",
        merged(*(timed(lambda q=query: service.trend(q), repeat, clock) for query in TREND_QUERIES)),
        100,
    )
    view = service.trend("large language models")
    fresh = "matplotlib" not in sys.modules
    cpu_started, started = time.process_time(), time.perf_counter()
    render_trend_png(view)
    wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000
    print(f"  chart, first call{' (imports matplotlib)' if fresh else ''}: {wall:.0f} ms (CPU {cpu:.0f} ms)")
    report(
        "chart rendering (800x400 PNG)",
        timed(lambda: render_trend_png(view), max(repeat, 10), time.process_time),
        300,
    )
    report(
        "issues list + latest issue", timed(lambda: (service.list_issues(), service.issue()), repeat, clock)
    )
    cpu_started, started = clock(), time.perf_counter()
    trending = service.trending()
    print(
        f"  trending {trending.month} ({trending.papers} papers vs {trending.previous_papers}): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms (CPU {(clock() - cpu_started) * 1000:.0f} ms); "
        f"top: {', '.join(t.term for t in trending.terms[:6])}"
    )
    print(f"  (load average after: {load_average()})")
    engine.dispose()


def bench_trending(month_papers: int, workdir: Path) -> None:
    pool = load_pool()
    papers = spread(
        synthetic_papers(4 * month_papers, seed=7, pool=pool), 4, dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    )
    url = f"sqlite:///{workdir / 'trending.db'}"
    t0 = time.perf_counter()
    load(url, papers, 0)
    print(f"\ntrending on SQLite, {month_papers} papers/month (loaded in {time.perf_counter() - t0:.0f} s):")
    engine = make_engine(url)
    service = ArchiveService(make_session_factory(engine))
    from bot.archive import trending as trending_module

    for sample_size in (trending_module.DEFAULT_SAMPLE_SIZE, 2 * trending_module.DEFAULT_SAMPLE_SIZE):
        cpu_started, started = time.process_time(), time.perf_counter()
        with service._uow() as uow:
            view = trending_module.emerging_terms(uow.session, "2025-10", sample_size=sample_size)
        wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000
        print(
            f"  sample_size={sample_size}: {wall:.0f} ms (CPU {cpu:.0f} ms; {view.papers} vs "
            f"{view.previous_papers} papers, sampled={view.sampled}); "
            f"top: {', '.join(t.term for t in view.terms[:6])}"
        )
    print(f"  (load average {load_average()})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--digests", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query")
    parser.add_argument("--pg-url", default=os.environ.get("TRENDS_TEST_DATABASE_URL"))
    parser.add_argument("--trending-month", type=int, default=25_000)
    parser.add_argument("--skip-trending", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    papers = spread(synthetic_papers(args.papers), SPAN_MONTHS, FIRST)
    print(f"generated {len(papers)} papers over {SPAN_MONTHS} months in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sqlite_url = f"sqlite:///{workdir / 'archive.db'}"
        t0 = time.perf_counter()
        load(sqlite_url, papers, args.digests)
        print(f"SQLite loaded in {time.perf_counter() - t0:.0f} s")
        bench_engine("SQLite", sqlite_url, args.repeat)
        if args.pg_url:
            admin = create_engine(make_url(args.pg_url), isolation_level="AUTOCOMMIT")
            name = f"trends_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                pg_url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
                t0 = time.perf_counter()
                load(pg_url, papers, args.digests)
                print(f"\nPostgreSQL loaded in {time.perf_counter() - t0:.0f} s")
                bench_engine("PostgreSQL", pg_url, args.repeat)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            print("\n(PostgreSQL skipped: pass --pg-url or set TRENDS_TEST_DATABASE_URL)")
        if not args.skip_trending:
            bench_trending(args.trending_month, workdir)


if __name__ == "__main__":
    main()
