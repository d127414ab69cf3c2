"""`trends quickstart`: the README's first command, online (fake arXiv), offline, and `--from FILE`.

The papers are written here (`make_records`, `tests.fakes.snapshot`): nothing comes from real papers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from adapters.cli import app
from bot.db.engine import make_engine
from bot.db.models import Digest, HarvestRun, Paper
from tests.fakes.arxiv_server import FakeArxivServer, make_records
from tests.fakes.snapshot import pool_row, write_lines

runner = CliRunner()
OCTOBER = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def _counts(db_url: str) -> tuple[int, list[str]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        papers = int(conn.scalar(select(func.count()).select_from(Paper)) or 0)
        months = list(conn.scalars(select(Digest.month)))
    engine.dispose()
    return papers, months


def _online(monkeypatch: pytest.MonkeyPatch, db_url: str, server: FakeArxivServer) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", db_url)
    monkeypatch.setenv("TRENDS_ARXIV_API_URL", server.url)
    monkeypatch.setenv("TRENDS_ARXIV_DELAY_SECONDS", "0")
    monkeypatch.setenv("TRENDS_ARXIV_NUM_RETRIES", "0")
    monkeypatch.setenv("TRENDS_ARXIV_PAGE_SIZE", "1000")


def test_online_harvests_the_month_from_arxiv(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    records = make_records(40, first=OCTOBER + dt.timedelta(days=2), spacing=dt.timedelta(hours=9))
    with FakeArxivServer(records) as server:
        _online(monkeypatch, sqlite_url, server)
        result = runner.invoke(app, ["quickstart", "--month", "2026-10"])
        assert result.exit_code == 0, result.output
        assert server.requests, "quickstart never asked arXiv"
        asked = server.requests[0]
    assert (asked.first, asked.last) == (OCTOBER, dt.datetime(2026, 10, 31, 23, 59, tzinfo=dt.UTC))
    assert "Harvesting October 2026" in result.output
    assert "Stored 40 papers (40 new) from 1 page in" in result.output
    assert "# Trends in AI — October 2026" in result.output
    assert "**Why →**" in result.output
    assert _counts(sqlite_url) == (40, ["2026-10"])


def test_an_interrupted_harvest_resumes_on_the_next_run(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = make_records(2500, first=OCTOBER, spacing=dt.timedelta(minutes=17))
    with FakeArxivServer(records) as server:
        _online(monkeypatch, sqlite_url, server)
        server.inject("status", status=503, times=None, skip=1)  # arXiv fails after the first page
        failed = runner.invoke(app, ["quickstart", "--month", "2026-10"])
        assert failed.exit_code == 1, failed.output
        assert "run the harvest again to resume" in failed.output
        assert _counts(sqlite_url) == (1000, [])
        server.clear_faults()
        asked_before = len(server.requests)
        done = runner.invoke(app, ["quickstart", "--month", "2026-10"])
        assert done.exit_code == 0, done.output
        resumed_at = server.requests[asked_before].first
    # The second run starts where the first one's last stored page ended, not at the month's start.
    assert resumed_at == records[999].submitted_at.replace(second=0)
    assert "resumed from" in done.output
    assert _counts(sqlite_url) == (2500, ["2026-10"])
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert list(conn.scalars(select(HarvestRun.status))) == ["done"]
    engine.dispose()


def test_offline_says_so_once_and_how_to_import_instead(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TRENDS_ARXIV_API_URL", "http://127.0.0.1:9/api/query")  # nothing listens there
    result = runner.invoke(app, ["quickstart"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if "Error" in line]
    assert len(errors) == 1
    assert "arXiv (127.0.0.1) is unreachable" in result.output
    assert "trends import FILE" in result.output
    assert "trends quickstart --from FILE" in result.output
    assert "Traceback" not in result.output
    assert _counts(sqlite_url) == (0, [])


def _pool_file(path: Path) -> Path:
    rows = [
        pool_row(
            f"2503.{i:05d}", title=f"Diffusion models for protein design, part {i}", date=f"2025-03-{i:02d}"
        )
        for i in range(1, 7)
    ]
    rows += [
        pool_row(f"2504.{i:05d}", title=f"Agents that plan, study {i}", date="2025-04-02") for i in (1, 2)
    ]
    rows.append(pool_row("2504.00003", categories=("hep-th",), date="2025-04-03"))  # not a configured one
    return write_lines(path, rows)


def test_from_file_imports_and_digests_the_busiest_month(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TRENDS_ARXIV_API_URL", "http://127.0.0.1:9/api/query")  # never asked
    path = _pool_file(tmp_path / "pool.jsonl.gz")
    result = runner.invoke(app, ["quickstart", "--from", str(path)])
    assert result.exit_code == 0, result.output
    assert "8 new" in result.output
    assert "1 outside the filters" in result.output
    assert "# Trends in AI — March 2025" in result.output
    assert _counts(sqlite_url) == (8, ["2025-03"])
    april = runner.invoke(app, ["quickstart", "--from", str(path), "--month", "2025-04"])
    assert april.exit_code == 0, april.output
    assert "0 new, 0 updated, 8 unchanged" in april.output
    assert "# Trends in AI — April 2025" in april.output
    empty = write_lines(tmp_path / "empty.jsonl", [pool_row("2504.00009", categories=("hep-th",))])
    nothing = runner.invoke(app, ["quickstart", "--from", str(empty)])
    assert nothing.exit_code == 1
    assert "nothing to digest" in nothing.output
