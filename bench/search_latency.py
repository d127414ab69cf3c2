"""Full-text search latency on 100,000 realistic papers, SQLite and PostgreSQL.

    python -m bench.search_latency [--papers 100000] [--queries 200] [--pg-url postgresql+psycopg://…]

Builds the corpus with `bench._corpus` (real arXiv titles/abstracts/authors, recombined), loads it into
a SQLite file in a temporary directory and into a throwaway PostgreSQL database (created on the server
of --pg-url, default $TRENDS_TEST_DATABASE_URL, dropped afterwards), then runs the same ~200 queries
(single words, multi-word, phrases, rare and very common words, author names; a third with a month
filter) through `bot.db.fts.search` with limit 10 and prints p50/p95/p99 per engine. Goal: p95 ≤ 50 ms.

Wall times depend on what else the machine runs, so CPU time is printed too: this process's
(`time.process_time`) plus, when the PostgreSQL server runs on this machine, its backend's (read from
/proc), and the load average before and after.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.engine import make_url

from bench._corpus import CorpusPaper, paper_rows, synthetic_papers
from bot.db import migrations
from bot.db.engine import make_engine, make_session_factory
from bot.db.fts import SearchFilter, search
from bot.db.models import Paper
from bot.textquery import STOP_WORDS, parse_text_query

COMMON = ["model", "learning", "language models", "neural network", "data", "deep learning"]


def build_queries(papers: Sequence[CorpusPaper], count: int, seed: int = 7) -> list[tuple[str, bool]]:
    """(query text, use a month filter) pairs in realistic proportions."""
    rng = random.Random(seed)
    words = collections.Counter(
        w for p in papers[:20000] for w in p.title.lower().split() if w.isalpha() and w not in STOP_WORDS
    )
    ranked = [w for w, _ in words.most_common()]
    frequent, rare = ranked[:300], [w for w, n in words.items() if 2 <= n <= 5]
    queries: list[str] = list(COMMON)
    while len(queries) < count:
        kind = rng.random()
        paper = papers[rng.randrange(len(papers))]
        title_words = [w for w in paper.title.split() if w.isalpha() and w.lower() not in STOP_WORDS]
        if kind < 0.25:
            queries.append(rng.choice(frequent))
        elif kind < 0.40:
            queries.append(rng.choice(rare))
        elif kind < 0.65 and len(title_words) >= 3:
            queries.append(" ".join(rng.sample(title_words, 2 + (rng.random() < 0.4))))
        elif kind < 0.80 and len(title_words) >= 2:
            start = rng.randrange(len(title_words) - 1)
            queries.append('"' + " ".join(title_words[start : start + 2]) + '"')
        elif paper.authors:
            author = rng.choice(paper.authors)
            queries.append(author if rng.random() < 0.5 else f'author:"{author}"')
        else:
            queries.append(rng.choice(frequent) + " -" + rng.choice(frequent))
    return [(q, i % 3 == 2) for i, q in enumerate(queries[:count])]


def load(engine: Engine, papers: Sequence[CorpusPaper]) -> float:
    started = time.perf_counter()
    migrations.upgrade(engine)
    with engine.begin() as conn:
        for start in range(0, len(papers), 2000):
            conn.execute(insert(Paper.__table__), paper_rows(papers[start : start + 2000]))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE papers")
    return time.perf_counter() - started


class CpuClock:
    """CPU seconds used so far by this process and by the engine's PostgreSQL backends.

    A backend's time is read from /proc/<pid>/schedstat, so it counts only when the server runs on
    this machine (otherwise `server_visible` is False and only this process is counted).
    """

    def __init__(self, engine: Engine) -> None:
        self.backends: set[int] = set()
        if engine.dialect.name == "postgresql":
            event.listen(engine, "checkout", self._remember_backend)

    def _remember_backend(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if "backend_pid" not in record.info:  # pooled connections may predate this clock
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT pg_backend_pid()")
            record.info["backend_pid"] = int(cursor.fetchone()[0])
            cursor.close()
        self.backends.add(record.info["backend_pid"])

    def server_seconds(self) -> float:
        total = 0.0
        for pid in self.backends:
            try:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                continue
        return total

    @property
    def server_visible(self) -> bool:
        return any(Path(f"/proc/{pid}/schedstat").exists() for pid in self.backends)

    def __call__(self) -> float:
        return time.process_time() + self.server_seconds()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def month_window(rng: random.Random) -> SearchFilter:
    year, month = rng.choice([(2024, m) for m in range(1, 13)] + [(2025, m) for m in range(1, 13)])
    since = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    until = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return SearchFilter(since=since, until=until)


def measure(
    engine: Engine, queries: Sequence[tuple[str, bool]]
) -> tuple[list[float], list[float], list[str]]:
    """Wall and CPU milliseconds per query (in order), and the queries as labelled in reports."""
    clock = CpuClock(engine)
    factory = make_session_factory(engine)
    rng = random.Random(11)
    windows = [month_window(rng) for _ in queries]
    walls: list[float] = []
    cpus: list[float] = []
    labels: list[str] = []
    with factory() as session:
        for text_query, _ in queries[:20]:  # warm caches and the connection
            search(session, parse_text_query(text_query), limit=10)
        for (text_query, filtered), window in zip(queries, windows, strict=True):
            parsed = parse_text_query(text_query)
            cpu_started, started = clock(), time.perf_counter()
            search(session, parsed, filters=window if filtered else None, limit=10)
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((clock() - cpu_started) * 1000)
            labels.append(text_query + (" [month]" if filtered else ""))
    if engine.dialect.name == "postgresql" and not clock.server_visible:
        print("    (the PostgreSQL server is not on this machine: CPU is this process only)")
    return walls, cpus, labels


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(name: str, load_seconds: float, walls: list[float], cpus: list[float], labels: list[str]) -> None:
    print(
        f"{name:<11} load {load_seconds:6.1f}s  queries {len(walls)}  "
        f"p50 {percentile(walls, 0.50):6.1f} ms  p95 {percentile(walls, 0.95):6.1f} ms  "
        f"p99 {percentile(walls, 0.99):6.1f} ms  mean {statistics.fmean(walls):6.1f} ms"
    )
    print(
        f"{'':<11} CPU (client + server): p50 {percentile(cpus, 0.50):6.1f} ms  "
        f"p95 {percentile(cpus, 0.95):6.1f} ms  mean {statistics.fmean(cpus):6.1f} ms  "
        f"(load average {load_average()})"
    )
    slowest = sorted(zip(walls, cpus, labels, strict=True), reverse=True)[:5]
    for wall, cpu, label in slowest:
        print(f"    {wall:7.1f} ms (CPU {cpu:6.1f} ms)  {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pg-url", default=os.environ.get("TRENDS_TEST_DATABASE_URL"))
    args = parser.parse_args()

    papers = list(synthetic_papers(args.papers))
    queries = build_queries(papers, args.queries)
    print(f"{len(papers):,} papers, {len(queries)} queries (limit 10, a third with a month filter)")
    print(f"load average {load_average()} on {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        seconds = load(engine, papers)
        report("SQLite", seconds, *measure(engine, queries))
        engine.dispose()

    if not args.pg_url:
        print("PostgreSQL skipped: pass --pg-url or set TRENDS_TEST_DATABASE_URL")
        return
    admin = create_engine(make_url(args.pg_url), isolation_level="AUTOCOMMIT")
    name = f"trends_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(make_url(args.pg_url).set(database=name).render_as_string(hide_password=False))
        seconds = load(engine, papers)
        report("PostgreSQL", seconds, *measure(engine, queries))
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
