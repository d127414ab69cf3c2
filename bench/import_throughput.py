"""Import throughput: papers per second from an arXiv metadata snapshot file into the database.

Writes a seeded snapshot of N made-up papers (default 500,000; `tests.fakes.snapshot`, ~1.8 kB a line
like the real file: an 80-character title, a wrapped ~1,000-character abstract, 1–8 authors, 1–3
categories and versions) to a temporary directory, then imports it with `BulkImporter` (what
`trends import` runs) into a fresh database: parsed + stored, with the full-text index kept current.
Then imports it again (every paper unchanged). Each import runs in a child process so its peak
memory (max RSS) is its own. Goal: ≥ 10,000 papers/s on SQLite, peak RSS < 500 MB.

    python bench/import_throughput.py [--papers 500000] [--gzip]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]   # creates and drops a database
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
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


def child(url: str, path: Path) -> None:
    """Import `path` into `url` twice and print the figures as JSON (runs in its own process)."""
    from sqlalchemy import func, select, text

    from bot.db.engine import make_engine, make_session_factory
    from bot.db.fts import FtsQuery, search
    from bot.db.models import Paper
    from bot.db.uow import UnitOfWork
    from bot.harvest.bulk import BulkImporter

    engine = make_engine(url)
    factory = make_session_factory(engine)
    importer = BulkImporter(lambda: UnitOfWork(factory))
    before = resource.getrusage(resource.RUSAGE_SELF)
    first = importer.run(path)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_first = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss_first = after.ru_maxrss / 1024
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
                "first": {"papers": first.accepted, "seconds": first.seconds, "cpu": cpu_first},
                "again": {"papers": again.accepted, "seconds": again.seconds},
                "unchanged": again.counts.unchanged,
                "stored": stored,
                "indexed": indexed,
                "search_hits": hits,
                "skipped": sum(first.skipped.values()),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "peak_rss_first_mb": rss_first,
            }
        )
    )


def run_child(url: str, path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stderr[-3000:]}")
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def report(engine: str, figures: dict[str, object], size_mb: float) -> None:
    first: dict[str, float] = figures["first"]  # type: ignore[assignment]
    again: dict[str, float] = figures["again"]  # type: ignore[assignment]
    rate = first["papers"] / first["seconds"]
    print(
        f"{engine:<10} import  {first['papers']:>9,.0f} papers in {first['seconds']:7.1f} s = "
        f"{rate:>8,.0f} papers/s ({size_mb / first['seconds']:.0f} MB/s of file); this process used "
        f"{first['cpu']:.1f} s of CPU = {first['papers'] / first['cpu']:,.0f} papers per CPU-second"
    )
    print(
        f"{engine:<10} re-run  {again['papers']:>9,.0f} papers in {again['seconds']:7.1f} s = "
        f"{again['papers'] / again['seconds']:>8,.0f} papers/s (unchanged: {figures['unchanged']:,})"
    )
    print(
        f"{engine:<10} stored {figures['stored']:,}, indexed {figures['indexed']:,}, search hits "
        f"{figures['search_hits']}, skipped {figures['skipped']}, peak RSS {figures['peak_rss_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--gzip", action="store_true", help="write and read the snapshot gzipped")
    parser.add_argument("--pg-url", help="PostgreSQL server URL: a throwaway database is created on it")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.db import migrations
    from bot.db.engine import make_engine

    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        path = Path(tmp) / ("arxiv-metadata-oai-snapshot.json" + (".gz" if args.gzip else ""))
        seconds = write_snapshot(path, args.papers, args.seed)
        size_mb = path.stat().st_size / 1e6
        print(f"snapshot: {args.papers:,} papers, {size_mb:,.0f} MB, written in {seconds:.0f} s")
        if not args.skip_sqlite:
            url = f"sqlite:///{tmp}/bench.db"
            engine = make_engine(url)
            migrations.upgrade(engine)
            engine.dispose()
            report("sqlite", run_child(url, path), size_mb)
        if args.pg_url:
            admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            name = f"trends_import_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
                engine = make_engine(url)
                migrations.upgrade(engine)
                engine.dispose()
                report("postgresql", run_child(url, path), size_mb)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
