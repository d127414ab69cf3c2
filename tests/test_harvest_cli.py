"""`trends harvest` and `trends papers` through Typer's CliRunner, against the fake arXiv server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from adapters.cli import app
from adapters.cli.harvest import resolve_window
from bot.errors import ValidationError
from tests.fakes.arxiv_server import FakeArxivServer
from tests.paper_corpus import generate_papers

runner = CliRunner()
# 300 team-written papers submitted in March 2026, a share of them with LaTeX, HTML or emoji.
PAPERS = generate_papers(300, seed=41)


@contextmanager
def _serving(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxivServer]:
    with FakeArxivServer(PAPERS) as server:
        monkeypatch.setenv("TRENDS_DATABASE_URL", url)
        monkeypatch.setenv("TRENDS_ARXIV_API_URL", server.url)
        monkeypatch.setenv("TRENDS_ARXIV_DELAY_SECONDS", "0")
        yield server


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxivServer]:
    """The fake arXiv and a database on each engine, wired through the environment."""
    with _serving(db_url, monkeypatch) as server:
        yield server


@pytest.fixture
def sqlite_env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxivServer]:
    """The same on SQLite only, for tests that never reach the storage."""
    with _serving(sqlite_url, monkeypatch) as server:
        yield server


def test_harvest_a_window_then_list_it(env: FakeArxivServer) -> None:
    result = runner.invoke(
        app, ["harvest", "--from", "2026-03-01", "--to", "2026-03-31", "--categories", "cs.LG,cs.CL"]
    )
    assert result.exit_code == 0, result.output
    chosen = [r for r in PAPERS if {"cs.LG", "cs.CL"} & set(r.categories)]
    expected = len(chosen)
    assert 50 < expected < len(PAPERS)
    assert f"fetched {expected}, inserted {expected}, updated 0, unchanged 0" in result.output
    assert "stored" in result.output  # plain progress lines when not on a terminal
    assert env.requests[0].categories == ("cs.CL", "cs.LG")
    assert env.requests[0].max_results >= 1000

    again = runner.invoke(app, ["harvest", "--month", "2026-03", "--categories", "cs.LG,cs.CL"])
    assert again.exit_code == 0, again.output
    assert "inserted 0," in again.output

    listing = runner.invoke(app, ["papers", "--month", "2026-03", "--limit", "3"])
    assert listing.exit_code == 0, listing.output
    assert f"March 2026: {expected} papers stored." in listing.output
    first = min(chosen, key=lambda r: (r.submitted_at, r.arxiv_id))
    assert first.arxiv_id in listing.output
    assert "2026-03-0" in listing.output


def test_papers_defaults_to_the_newest_month(env: FakeArxivServer) -> None:
    result = runner.invoke(app, ["harvest", "--month", "2026-03", "--categories", "cs.LG,cs.CL,cs.CV"])
    assert result.exit_code == 0, result.output
    stored = sum(1 for r in PAPERS if {"cs.LG", "cs.CL", "cs.CV"} & set(r.categories))
    listing = runner.invoke(app, ["papers"])
    assert listing.exit_code == 0, listing.output
    assert f"March 2026: {stored} papers stored." in listing.output
    assert f"Showing 1–20 of {stored}" in listing.output


def test_there_is_no_bundled_sample_any_more(sqlite_env: FakeArxivServer) -> None:
    result = runner.invoke(app, ["harvest", "--sample"])
    assert result.exit_code != 0
    assert "--sample" in result.output  # Typer names the unknown option
    assert sqlite_env.requests == []


def test_harvest_failure_is_a_short_message(env: FakeArxivServer) -> None:
    env.inject("status", status=503, times=None)
    result = runner.invoke(app, ["harvest", "--month", "2026-03"])
    assert result.exit_code == 1
    assert "HTTP 503" in result.output
    assert "2026-03-01 00:00–2026-03-31 23:59 UTC" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["harvest", "--month", "2025-13"], "between 1 and 12"),
        (["harvest", "--from", "yesterday"], "YYYY-MM-DD"),
        (["harvest", "--from", "2025-05-09", "--to", "2025-05-01"], "after"),
        (["harvest", "--month", "2025-05", "--from", "2025-05-01"], "not both"),
        (
            ["harvest", "--month", "2025-05", "--categories", "cs.LG,'; DROP TABLE papers"],
            "Not arXiv categories",
        ),
        (["harvest", "--month", "2025-05", "--categories", ",,"], "empty"),
        (["papers", "--month", '"NEAR" OR 1=1 🤖'], "YYYY-MM"),
    ],
)
def test_bad_input_is_refused_clearly(sqlite_env: FakeArxivServer, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert sqlite_env.requests == []


def test_help_explains_each_command() -> None:
    harvest_help = runner.invoke(app, ["harvest", "--help"])
    assert harvest_help.exit_code == 0
    for text in ("--from", "--month", "--categories", "yesterday", "resumes"):
        assert text in harvest_help.output
    assert "--sample" not in harvest_help.output
    papers_help = runner.invoke(app, ["papers", "--help"])
    assert papers_help.exit_code == 0
    assert "--limit" in papers_help.output
    assert "stored for a month" in papers_help.output


def test_default_window_is_yesterday() -> None:
    today = dt.date(2026, 11, 1)
    assert resolve_window(None, None, None, today) == (dt.date(2026, 10, 31), dt.date(2026, 10, 31))
    assert resolve_window("2026-10-05", None, None, today) == (dt.date(2026, 10, 5), dt.date(2026, 10, 5))
    assert resolve_window(None, None, "2026-02", today) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    with pytest.raises(ValidationError):
        resolve_window(None, "2026-10-32", None, today)
