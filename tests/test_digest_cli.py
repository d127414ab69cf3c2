"""`trends topics|digest|rank` through Typer's CliRunner on a real database (TRENDS_DATABASE_URL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from adapters.cli import app
from tests.test_digest import add_papers

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "trends.toml"
    config.write_text(
        '[[topics]]\nname = "Agents"\ninclude = ["agent", "tool use"]\n\n'
        '[[topics]]\nname = "Reasoning"\ninclude = ["reasoning"]\n'
    )
    monkeypatch.setenv("TRENDS_CONFIG", str(config))
    monkeypatch.setenv("TRENDS_DATABASE_URL", db_url)
    monkeypatch.setenv("TRENDS_DIGEST_SIZE", "3")
    monkeypatch.setenv("TRENDS_OTHER_PAPERS", "2")
    return {}


def test_topics_commands(env: dict[str, str]) -> None:
    listed = runner.invoke(app, ["topics", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Agents" in listed.output
    assert "Reasoning" in listed.output
    added = runner.invoke(
        app,
        [
            "topics",
            "add",
            "Robotics",
            "--include",
            "robot learning",
            "--include",
            "manipulation",
            "--exclude",
            "survey",
            "--example",
            "2410.01234",
            "--weight",
            "1.2",
            "--description",
            "Robots that learn.",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "Added topic “Robotics”" in added.output
    edited = runner.invoke(app, ["topics", "edit", "robotics", "--weight", "2", "--clear-exclude"])
    assert edited.exit_code == 0, edited.output
    assert runner.invoke(app, ["topics", "disable", "Robotics"]).exit_code == 0
    assert runner.invoke(app, ["topics", "enable", "Robotics"]).exit_code == 0
    removed = runner.invoke(app, ["topics", "remove", "Robotics"])
    assert removed.exit_code == 0
    assert "Removed topic “Robotics”" in removed.output
    assert "Robotics" not in runner.invoke(app, ["topics", "list"]).output


def test_topics_list_fits_a_narrow_terminal_with_every_phrase_whole(env: dict[str, str]) -> None:
    phrases = [f"phrase number {i} of many" for i in range(20)]
    added = runner.invoke(app, ["topics", "add", "Long", *(arg for p in phrases for arg in ("--include", p))])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["topics", "list"], env={"COLUMNS": "60"})
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert max(len(line) for line in lines) <= 60
    # Each phrase on one line (none broken between lines), continuation lines indented under it.
    block = lines[lines.index("Long — on, weight 1") :]
    for phrase in phrases:
        assert any(phrase in line for line in block), phrase
    assert block[1].startswith("  include: phrase number 0 of many, ")
    assert block[2].startswith(" " * 11 + "phrase number")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["topics", "add", "Agents"], "already exists"),
        (["topics", "add", "New", "--weight", "11"], "between 0 and 10"),
        (["topics", "add", "New", "--example", "not-an-id"], "is not an arXiv id"),
        (["topics", "remove", "Agentz"], "Did you mean “Agents”"),
        (["digest", "--month", "October"], "is not a month"),
        (["digest", "--month", "2026-11"], "trends harvest --month 2026-11"),
        (["rank", "--month", "2026-13"], "not between 1 and 12"),
    ],
)
def test_errors_are_one_clear_line(env: dict[str, str], args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_digest_and_rank(env: dict[str, str], session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with session_factory() as session:
        add_papers(session)
        session.commit()
    printed = runner.invoke(app, ["digest", "--month", "2026-10"])
    assert printed.exit_code == 0, printed.output
    assert "# Trends in AI — October 2026" in printed.output
    assert "**Key insights →**" in printed.output
    out = tmp_path / "digest.json"
    written = runner.invoke(app, ["digest", "--month", "2026-10", "--format", "json", "--out", str(out)])
    assert written.exit_code == 0, written.output
    data = json.loads(out.read_text())
    assert data["month"] == "2026-10"
    assert len(data["picks"]) == 3
    assert len(data["others"]) == 2
    ranked = runner.invoke(app, ["rank", "--month", "2026-10", "--limit", "5", "--explain"])
    assert ranked.exit_code == 0, ranked.output
    assert "Ranking for October 2026" in ranked.output
    assert data["picks"][0]["arxiv_id"] in ranked.output
    assert "score" in ranked.output
    # The shipped learned model ranks by default, and --explain says what drove each paper.
    assert "drivers (learned model" in ranked.output
    assert "title words" in ranked.output
    # No 👍 yet: the audience's own vote model is not used, and --explain says why.
    assert "team votes: not used" in ranked.output
