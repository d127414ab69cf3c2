"""Import throughput: papers per second from an arXiv metadata snapshot file into the database.

Writes a seeded snapshot of N made-up papers (default 500,000; `tests.fakes.snapshot`, ~1.8 kB a line
like the real file: an 80-character title, a wrapped ~1,000-character abstract, 1–8 authors, 1–3
categories and versions) to a temporary directory, then imports it with `BulkImporter` (what
`trends import` runs) into a fresh database: parsed + stored, with the full-text index kept current.
Then imports it again (every paper unchanged). Each import runs in a process of its own so its peak
memory (max RSS) is its own. Goal: ≥ 10,000 papers/s on SQLite, peak RSS < 500 MB.

Both ways of reading are measured, `--repeats` times each, alternating, into a fresh database each
time: `processes=0` (reading and parsing in the importing process, a writer thread storing) and
`processes=1` (reading, parsing and row building in a child process of the importer). Each run prints
the load average before it (other jobs on the machine slow it down), wall time, papers/s, the CPU
seconds of the importer and of its reading child (getrusage SELF / CHILDREN), papers per CPU-second,
the overlap (CPU / wall: 1 = no parallelism) and the peak RSS of both; then min / median per way.

    python bench/import_throughput.py [--papers 500000] [--repeats 3] [--processes 0,1] [--gzip]
        [--start-method spawn]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]   # creates and drops a database
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_snapshot(path: Path, papers: int, seed: int) -> float:
    from tests.fakes.snapshot import generated_snapshot

    started = time.monotonic()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:  # type: ignore[operator]
        for row in generated_snapshot(papers, seed=seed):
            handle.write(json.dumps(row) + "\n")
    return time.monotonic() - started


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def child(url: str, path: Path, processes: int, start_method: str | None) -> None:
    """Import `path` into `url` twice and print the figures as JSON (runs in its own process)."""
    from sqlalchemy import func, select, text

    from bot.db.engine import make_engine, make_session_factory
    from bot.db.fts import FtsQuery, search
    from bot.db.models import Paper
    from bot.db.uow import UnitOfWork
    from bot.harvest.bulk import BulkImporter

    engine = make_engine(url)
    factory = make_session_factory(engine)
    importer = BulkImporter(lambda: UnitOfWork(factory), processes=processes, start_method=start_method)
    before = resource.getrusage(resource.RUSAGE_SELF)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    first = importer.run(path)
    after = resource.getrusage(resource.RUSAGE_SELF)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    again = importer.run(path)
    with factory() as session:
        stored = session.scalar(select(func.count()).select_from(Paper))
        if engine.dialect.name == "sqlite":
            indexed = session.scalar(text("SELECT count(*) FROM papers_fts_docsize"))
        else:
            indexed = session.scalar(text("SELECT count(*) FROM papers WHERE search_vector IS NOT NULL"))
        hits = len(search(session, FtsQuery(words=("diffusion", "kernel")), limit=50))
    engine.dispose()
    print(
        json.dumps(
            {
                "first": {
                    "papers": first.accepted,
                    "seconds": first.seconds,
                    "cpu_parent": _cpu(after) - _cpu(before),
                    "cpu_child": _cpu(after_children) - _cpu(before_children),
                },
                "again": {"papers": again.accepted, "seconds": again.seconds},
                "unchanged": again.counts.unchanged,
                "stored": stored,
                "indexed": indexed,
                "search_hits": hits,
                "skipped": sum(first.skipped.values()),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "peak_rss_first_mb": after.ru_maxrss / 1024,
                # The largest reading child's (this process has no other children).
                "peak_rss_child_mb": after_children.ru_maxrss / 1024,
            }
        )
    )


def run_child(url: str, path: Path, processes: int, start_method: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, str(path), str(processes), start_method],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stderr[-3000:]}")
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def report(
    engine: str, processes: int, load: str, figures: dict[str, object], size_mb: float
) -> dict[str, float]:
    """Prints one run; returns its headline figures for the summary."""
    first: dict[str, float] = figures["first"]  # type: ignore[assignment]
    again: dict[str, float] = figures["again"]  # type: ignore[assignment]
    way = f"{engine} processes={processes}"
    rate = first["papers"] / first["seconds"]
    cpu = first["cpu_parent"] + first["cpu_child"]
    print(f"{way}: load average before the run (1 / 5 / 15 min) {load}")
    print(
        f"{way}: import {first['papers']:,.0f} papers in {first['seconds']:.1f} s = {rate:,.0f} papers/s "
        f"({size_mb / first['seconds']:.0f} MB/s of file); CPU {cpu:.1f} s (importer "
        f"{first['cpu_parent']:.1f} s + reading child {first['cpu_child']:.1f} s) = "
        f"{first['papers'] / cpu:,.0f} papers per CPU-second; overlap CPU/wall {cpu / first['seconds']:.2f}"
    )
    print(
        f"{way}: re-run {again['papers']:,.0f} papers in {again['seconds']:.1f} s = "
        f"{again['papers'] / again['seconds']:,.0f} papers/s (unchanged: {figures['unchanged']:,})"
    )
    print(
        f"{way}: stored {figures['stored']:,}, indexed {figures['indexed']:,}, search hits "
        f"{figures['search_hits']}, skipped {figures['skipped']}, peak RSS importer "
        f"{figures['peak_rss_mb']:.0f} MB, reading child {figures['peak_rss_child_mb']:.0f} MB",
        flush=True,
    )
    return {
        "papers/s": rate,
        "re-run papers/s": again["papers"] / again["seconds"],
        "papers per CPU-second": first["papers"] / cpu,
        "CPU/wall": cpu / first["seconds"],
        "peak RSS importer MB": float(figures["peak_rss_mb"]),  # type: ignore[arg-type]
        "peak RSS child MB": float(figures["peak_rss_child_mb"]),  # type: ignore[arg-type]
    }


def summary(engine: str, runs: dict[int, list[dict[str, float]]]) -> None:
    for processes, figures in runs.items():
        if not figures:
            continue
        parts = []
        for name in figures[0]:
            values = [f[name] for f in figures]
            parts.append(f"{name} {min(values):,.2f} / {statistics.median(values):,.2f}")
        print(f"{engine} processes={processes}, min / median of {len(figures)}: " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--processes", default="0,1", help="ways to measure: 0 (one process), 1 (a reading child)"
    )
    parser.add_argument("--gzip", action="store_true", help="write and read the snapshot gzipped")
    parser.add_argument("--pg-url", help="PostgreSQL server URL: a throwaway database is created on it")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--start-method",
        default="",
        help="fork or spawn for the reading child (default: the importer's choice)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), int(args.child[2]), args.child[3] or None)
        return

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.db import migrations
    from bot.db.engine import make_engine

    ways = [int(part) for part in args.processes.split(",")]
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        path = Path(tmp) / ("arxiv-metadata-oai-snapshot.json" + (".gz" if args.gzip else ""))
        seconds = write_snapshot(path, args.papers, args.seed)
        size_mb = path.stat().st_size / 1e6
        print(f"snapshot: {args.papers:,} papers, {size_mb:,.0f} MB, written in {seconds:.0f} s", flush=True)
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT") if args.pg_url else None
        engines = ([] if args.skip_sqlite else ["sqlite"]) + (["postgresql"] if admin else [])
        for engine_name in engines:
            runs: dict[int, list[dict[str, float]]] = {way: [] for way in ways}
            for repeat in range(args.repeats):
                # Alternating the order spreads a slow phase of the machine over both ways.
                for processes in ways if repeat % 2 == 0 else ways[::-1]:
                    if engine_name == "sqlite":
                        db = Path(tmp) / "bench.db"
                        for leftover in Path(tmp).glob("bench.db*"):
                            leftover.unlink()
                        url = f"sqlite:///{db}"
                        engine = make_engine(url)
                        migrations.upgrade(engine)
                        engine.dispose()
                        load = _load()
                        figures = run_child(url, path, processes, args.start_method)
                    else:
                        assert admin is not None
                        name = f"trends_import_bench_{uuid.uuid4().hex[:8]}"
                        with admin.connect() as conn:
                            conn.execute(text(f'CREATE DATABASE "{name}"'))
                        try:
                            url = (
                                make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
                            )
                            engine = make_engine(url)
                            migrations.upgrade(engine)
                            engine.dispose()
                            load = _load()
                            figures = run_child(url, path, processes, args.start_method)
                        finally:
                            with admin.connect() as conn:
                                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    runs[processes].append(report(engine_name, processes, load, figures, size_mb))
            summary(engine_name, runs)
        if admin is not None:
            admin.dispose()


if __name__ == "__main__":
    main()
