"""`trends quickstart`: the README's first command, offline (bundled sample) and online (fake arXiv)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from adapters.cli import app
from bot.db.engine import make_engine
from bot.db.models import Digest, Paper
from bot.sample import load_sample
from tests.fakes.arxiv_server import FakeArxivServer

runner = CliRunner()


def _counts(db_url: str) -> tuple[int, list[str]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        papers = int(conn.scalar(select(func.count()).select_from(Paper)) or 0)
        months = list(conn.scalars(select(Digest.month)))
    engine.dispose()
    return papers, months


def test_offline_uses_the_bundled_sample(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TRENDS_ARXIV_API_URL", "http://127.0.0.1:9/api/query")  # nothing listens there
    result = runner.invoke(app, ["quickstart"])
    assert result.exit_code == 0, result.output
    assert "bundled sample" in result.output
    assert "# Trends in AI — May 2025" in result.output
    assert result.output.count("**Why →**") == 10
    assert "**Key insights →**" in result.output
    papers, months = _counts(sqlite_url)
    assert papers == len(load_sample())
    assert months == ["2025-05"]
    # Running it again stores nothing twice.
    again = runner.invoke(app, ["quickstart", "--offline"])
    assert again.exit_code == 0, again.output
    assert _counts(sqlite_url) == (papers, ["2025-05"])


def test_online_harvests_last_month_from_arxiv(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample's papers, moved to October 2026, stand in for a live month on the fake arXiv.
    shift = dt.datetime(2026, 10, 1, tzinfo=dt.UTC) - dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    records = [
        dataclasses.replace(r, submitted_at=r.submitted_at + shift, updated_at=r.updated_at + shift)
        for r in load_sample()
    ]
    with FakeArxivServer(records) as server:
        monkeypatch.setenv("TRENDS_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("TRENDS_ARXIV_API_URL", server.url)
        monkeypatch.setenv("TRENDS_ARXIV_DELAY_SECONDS", "0")
        result = runner.invoke(app, ["quickstart", "--month", "2026-10"])
        assert result.exit_code == 0, result.output
        assert server.requests, "quickstart never asked arXiv"
    assert "Harvesting October 2026" in result.output
    assert "# Trends in AI — October 2026" in result.output
    assert "bundled sample" not in result.output
    papers, months = _counts(sqlite_url)
    assert papers == len(records)
    assert months == ["2026-10"]
