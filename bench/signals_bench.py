"""Measure the signal store and refresh at a month's scale (~25k papers); prints figures.

    python bench/signals_bench.py [--papers 25000] [--database-url postgresql+psycopg://…]

Figures:
- the store over three days of four signals per paper: first readings, the same readings again the
  same day, the next day unchanged (no row, sightings moved), the day after with a tenth changed —
  with the row count after each, since the table should grow with change, not with time;
- `latest_signals` over every paper;
- a Semantic Scholar-only and a Hugging Face-only refresh against local fake servers (no pacing: our
  own overhead), with the requests each sent and what the default pacing would make of them.
Without --database-url a temporary SQLite file is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import build
from bot.db import migrations
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import PaperSignal
from bot.settings import Settings, load_settings
from bot.signals.service import refresh
from bot.signals.store import latest_signals, record_readings
from bot.signals.types import Reading, SourceReport
from tests.fakes.signal_servers import FakeClock, FakeHuggingFace, FakeSemanticScholar, insert_papers

SUBMITTED = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
KEYS = (
    ("semantic_scholar", "citations"),
    ("semantic_scholar", "influential_citations"),
    ("huggingface", "upvotes"),
    ("github", "stars"),
)
HF_SHARE = 10  # one paper in ten is featured on Hugging Face's daily papers


def count_rows(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(PaperSignal)) or 0


def bench_store(factory: sessionmaker[Session], ids: list[int]) -> None:
    days = (
        ("day 1, first readings", 0, 0, False),
        ("day 1, same values again", 0, 0, False),
        ("day 2, nothing changed", 1, 0, False),
        ("day 3, a tenth changed", 2, 0, True),
    )
    for label, day, hour_shift, some_changed in days:
        at = dt.datetime(2026, 10, 20 + day, 9 + hour_shift, tzinfo=dt.UTC)
        if label.endswith("again"):
            at += dt.timedelta(hours=3)
        started = time.perf_counter()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            readings = [
                Reading(p, s, n, float(p % 97 + (1 if some_changed and p % 10 == 0 else 0)))
                for p in chunk
                for s, n in KEYS
            ]
            with factory() as session:
                record_readings(session, readings, at)
                session.commit()
        elapsed = time.perf_counter() - started
        print(
            f"record {len(ids) * len(KEYS)} readings ({label}): {elapsed:.2f}s, "
            f"table now {count_rows(factory)} rows"
        )
    with factory() as session:
        for attempt in range(2):
            started = time.perf_counter()
            signals = latest_signals(session, ids)
            elapsed = time.perf_counter() - started
            print(
                f"latest_signals over {len(ids)} papers (run {attempt + 1}): {elapsed:.2f}s, "
                f"{len(signals)} answered"
            )


def describe(report: SourceReport, elapsed: float, pacing: float) -> str:
    return (
        f"{report.source} refresh of {report.requested} papers: {report.calls} requests, {elapsed:.2f}s "
        f"without pacing (≈{report.calls * pacing / 60:.1f} min at the default {pacing}s pacing); "
        f"updated {report.updated}, unchanged {report.unchanged}, unknown {report.unknown}"
    )


def bench_refresh(url: str, arxiv_ids: list[str]) -> None:
    defaults = Settings()
    s2, hf = FakeSemanticScholar(), FakeHuggingFace()
    for index, arxiv_id in enumerate(arxiv_ids):
        s2.add_paper(arxiv_id, citations=index % 50)
        if index % HF_SHARE == 0:
            hf.add_paper(arxiv_id, upvotes=index % 300, listed_on=dt.date(2026, 10, 2 + index % 29))
    s2.start()
    hf.start()
    try:
        settings = load_settings(
            database_url=url,
            signals_semantic_scholar_url=s2.url,
            signals_semantic_scholar_min_interval_seconds=0,
            signals_huggingface_url=hf.url,
            signals_huggingface_min_interval_seconds=0,
        )
        container = build(settings)
        clock = FakeClock(dt.datetime(2026, 11, 8, 9, tzinfo=dt.UTC))  # all of October is listed by now
        for name, pacing in (
            ("semantic_scholar", defaults.signals_semantic_scholar_min_interval_seconds),
            ("huggingface", defaults.signals_huggingface_min_interval_seconds),
        ):
            for run in ("first run", "second run"):
                started = time.perf_counter()
                report = refresh(container, ["2026-10"], [name], clock=clock)
                print(f"{run}: " + describe(report.sources[0], time.perf_counter() - started, pacing))
        old_cost = len(arxiv_ids) * defaults.signals_huggingface_min_interval_seconds
        print(
            f"(before: Hugging Face asked each of the {len(arxiv_ids)} papers, "
            f"{len(arxiv_ids)} requests ≈ {old_cost / 3600:.1f} h at the same pacing)"
        )
        container.close()
    finally:
        s2.stop()
        hf.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=25_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        migrations.upgrade(engine)
        factory = make_session_factory(engine)
        arxiv_ids = [f"2610.{i:05d}" for i in range(args.papers)]
        ids = list(insert_papers(factory, arxiv_ids, submitted_at=SUBMITTED).values())
        print(f"database: {engine.url.get_backend_name()}, papers: {len(ids)}")
        bench_store(factory, ids)
        with factory() as session:  # the refresh starts from an empty table
            session.query(PaperSignal).delete()
            session.commit()
        bench_refresh(url, arxiv_ids)
        engine.dispose()


if __name__ == "__main__":
    main()
