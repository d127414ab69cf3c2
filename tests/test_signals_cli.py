"""`trends signals refresh|prune` through Typer's CliRunner, with the environment pointing at local fakes."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from rich.console import Console
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from adapters.cli import app
from adapters.cli import signals as signals_cli
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import PaperSignal
from tests.fakes.signal_servers import FakeGitHub, FakeHuggingFace, FakeSemanticScholar, Fault, insert_papers

# The CLI runs on the real clock: use last month, whose listing days are all in the past.
_LAST_MONTH_START = (dt.datetime.now(dt.UTC).replace(day=1) - dt.timedelta(days=1)).replace(day=1)
MONTH = _LAST_MONTH_START.strftime("%Y-%m")
SUBMITTED = _LAST_MONTH_START.replace(day=3, hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Setup:
    env: dict[str, str]
    hf: FakeHuggingFace


@pytest.fixture
def setup(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.delenv("SEMANTIC_SCHOLAR_API_KEY", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    s2, hf, github = FakeSemanticScholar(), FakeHuggingFace(), FakeGitHub()
    for server in (s2, hf, github):
        server.start()
    hf.list_on(SUBMITTED.date() + dt.timedelta(days=1), "2410.01234")
    engine = make_engine(sqlite_url)
    insert_papers(
        make_session_factory(engine),
        ["2410.01234", "2410.02345", "2410.04567"],
        submitted_at=SUBMITTED,
        code_urls={"2410.02345": "https://github.com/other-lab/toolkit"},
    )
    engine.dispose()
    yield Setup(
        {
            "TRENDS_DATABASE_URL": sqlite_url,
            "TRENDS_SIGNALS_SEMANTIC_SCHOLAR_URL": s2.url,
            "TRENDS_SIGNALS_HUGGINGFACE_URL": hf.url,
            "TRENDS_SIGNALS_GITHUB_URL": github.url,
            "TRENDS_SIGNALS_SEMANTIC_SCHOLAR_MIN_INTERVAL_SECONDS": "0",
            "TRENDS_SIGNALS_HUGGINGFACE_MIN_INTERVAL_SECONDS": "0",
            "TRENDS_SIGNALS_GITHUB_MIN_INTERVAL_SECONDS": "0",
            "TRENDS_SIGNALS_BACKOFF_SECONDS": "0",
            "TRENDS_SIGNALS_MAX_RETRIES": "1",
        },
        hf,
    )
    for server in (s2, hf, github):
        server.stop()


def stored_rows(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(PaperSignal)) or 0
    finally:
        engine.dispose()


def test_refresh_fetches_stores_and_prints_a_summary(setup: Setup) -> None:
    result = CliRunner().invoke(app, ["signals", "refresh", "--month", MONTH], env=setup.env)
    assert result.exit_code == 0, result.output
    assert f"Signals for {MONTH}: 3 papers" in result.output
    assert "semantic_scholar: 3 papers to look at" in result.output  # plain lines off a terminal
    assert "semantic_scholar: 3 asked, 3 updated, 0 unchanged, 0 unknown, 0 failed" in result.output
    assert "huggingface: 3 asked, 1 updated, 0 unchanged, 2 unknown, 0 failed" in result.output
    assert "github: 1 asked, 1 updated, 0 unchanged, 0 unknown, 0 failed, 1 skipped" in result.output
    assert "(1 requests)" in result.output  # Semantic Scholar: one batch
    assert "Failed entirely" not in result.output
    # 2410.01234: S2 (2) + HF upvotes + stars; 2410.02345: S2 (2) + venue flag + GitHub stars;
    # 2410.04567: S2 (2).
    assert stored_rows(setup.env["TRENDS_DATABASE_URL"]) == 2 + 2 + 2 + 1 + 1 + 2


def test_refresh_exits_1_when_a_source_failed_entirely(setup: Setup) -> None:
    env = {**setup.env, "TRENDS_SIGNALS_HUGGINGFACE_URL": "http://127.0.0.1:9/api"}  # nothing listens there
    result = CliRunner().invoke(app, ["signals", "refresh", "--month", MONTH], env=env)
    assert result.exit_code == 1, result.output
    assert "connection failed" in result.output
    assert "Some papers got no fresh signals" in result.output
    assert "Failed entirely: huggingface" in result.output
    assert "semantic_scholar: 3 asked, 3 updated" in result.output  # the report is printed first
    assert stored_rows(env["TRENDS_DATABASE_URL"]) > 0


def test_refresh_exits_0_when_only_some_papers_failed(setup: Setup) -> None:
    lost_day = (SUBMITTED.date() + dt.timedelta(days=2)).isoformat()
    setup.hf.add_fault(Fault(status=500, when=lambda r: r.query.get("date") == [lost_day], times=None))
    result = CliRunner().invoke(app, ["signals", "refresh", "--month", MONTH], env=setup.env)
    assert result.exit_code == 0, result.output
    assert "huggingface: 3 asked, 1 updated, 0 unchanged, 0 unknown, 2 failed" in result.output
    assert "Some papers got no fresh signals" in result.output
    assert "Failed entirely" not in result.output


def test_the_help_says_when_refresh_exits_1(setup: Setup) -> None:
    result = CliRunner().invoke(app, ["signals", "refresh", "--help"], env=setup.env)
    assert result.exit_code == 0
    assert "Exits 1" in result.output


def test_only_the_named_source_runs(setup: Setup) -> None:
    result = CliRunner().invoke(
        app, ["signals", "refresh", "--month", MONTH, "--source", "github"], env=setup.env
    )
    assert result.exit_code == 0, result.output
    assert "github" in result.output
    assert "semantic_scholar" not in result.output
    assert stored_rows(setup.env["TRENDS_DATABASE_URL"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "use YYYY-MM"),
        (["--source", "papers_with_code"], "Unknown signal source"),
    ],
)
def test_user_mistakes_get_a_short_message(setup: Setup, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["signals", "refresh", *args], env=setup.env)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_terminal_gets_a_progress_bar(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(signals_cli, "console", Console(file=screen, force_terminal=True, width=100))
    result = CliRunner().invoke(app, ["signals", "refresh", "--month", MONTH], env=setup.env)
    assert result.exit_code == 0, result.output
    drawn = screen.getvalue()
    assert "papers to look at" not in drawn  # no log lines: the bar shows progress
    assert "3/3" in drawn
    assert "huggingface: 3 asked" in drawn


def test_prune_deletes_old_readings_but_keeps_the_newest(setup: Setup) -> None:
    url = setup.env["TRENDS_DATABASE_URL"]
    assert CliRunner().invoke(app, ["signals", "refresh", "--month", MONTH], env=setup.env).exit_code == 0
    rows = stored_rows(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        starred = select(PaperSignal.paper_id).where(PaperSignal.name == "stars").limit(1)
        paper_id = conn.scalar(starred)  # an older reading of a signal that has a newer one
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
        conn.execute(
            insert(PaperSignal),
            [
                {
                    "paper_id": paper_id,
                    "source": "github",
                    "name": "stars",
                    "value": 1.0,
                    "observed_at": long_ago,
                }
            ],
        )
    engine.dispose()

    result = CliRunner().invoke(app, ["signals", "prune", "--keep-days", "30"], env=setup.env)
    assert result.exit_code == 0, result.output
    assert "Deleted 1 signal readings" in result.output
    assert stored_rows(url) == rows
    refused = CliRunner().invoke(app, ["signals", "prune", "--keep-days", "0"], env=setup.env)
    assert refused.exit_code == 2
    assert "Traceback" not in refused.output
