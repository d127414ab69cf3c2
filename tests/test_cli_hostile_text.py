"""The command line prints text from people and papers as it is: never as console markup.

A topic named "[/x] bad" (added from Slack, say), a digest title or a harvest error with brackets once
crashed `trends topics list`, `trends issues` and `trends status` with rich's MarkupError, for good.
"""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from adapters.cli import app
from bot.audiences import default_audience_id
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import Digest, HarvestRun
from bot.db.uow import UnitOfWork

HOSTILE = "[/x] [bold]loud[/bold] :rocket: [link=http://evil.example]click[/link]"


def _run(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"TRENDS_DATABASE_URL": url, "COLUMNS": "250"})
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_bracketed_text_is_printed_literally(sqlite_url: str) -> None:
    added = _run(sqlite_url, "topics", "add", "[/x] bad", "--include", "[bold]loud", "--description", HOSTILE)
    assert "Added topic “[/x] bad”" in added
    listed = _run(sqlite_url, "topics", "list")
    assert "[/x] bad" in listed
    assert "[bold]loud" in listed
    assert ":rocket:" in listed  # no emoji codes either: a phrase is shown as typed
    engine = make_engine(sqlite_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        uow.session.add(
            Digest(audience_id=default_audience_id(uow.session), month="2026-10", title=f"Trends {HOSTILE}")
        )
        uow.session.add(
            HarvestRun(
                window_start=dt.date(2026, 10, 1),
                window_end=dt.date(2026, 10, 2),
                categories=["cs.LG"],
                status="failed",
                error="[/red] upstream said [b]no",
            )
        )
        uow.commit()
    engine.dispose()
    assert "[/x] [bold]loud[/bold]" in _run(sqlite_url, "issues")
    assert "[/x] [bold]loud[/bold]" in _run(sqlite_url, "issue", "2026-10")
    status = _run(sqlite_url, "status")
    assert "[/red] upstream said [b]no" in status
    assert "Trends [/x]" in status
    # Brackets in a query are not markup either (this archive holds no paper: it says so).
    assert "The archive has no papers yet." in _run(sqlite_url, "search", "[/x] loud")
