"""`trends search` and `trends trend` take any query: dash-words are exclusions, not unknown options."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from adapters.cli import app
from tests.factories import make_paper

runner = CliRunner()


@pytest.fixture
def archive(db_url: str, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", db_url)
    with session_factory.begin() as session:
        session.add_all(
            [
                make_paper("2610.00001", "Image segmentation with masks", "Segmentation of image regions."),
                make_paper("2610.00002", "Point cloud segmentation", "Segmentation of lidar point clouds."),
                make_paper("2610.00003", "Image captioning", "Captions for every image."),
            ]
        )


def test_a_dash_word_excludes_instead_of_failing(archive: None) -> None:
    result = runner.invoke(app, ["search", "-image", "segmentation"])
    assert result.exit_code == 0, result.output
    assert "No such option" not in result.output
    assert "Point cloud segmentation" in result.output
    assert "Image segmentation" not in result.output


def test_options_still_work_wherever_they_stand(archive: None) -> None:
    result = runner.invoke(app, ["search", "segmentation", "--page-size", "1", "-image"])
    assert result.exit_code == 0, result.output
    assert "Point cloud segmentation" in result.output
    assert "Image segmentation" not in result.output
    shown = runner.invoke(app, ["search", "--page-size=1", "segmentation"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("segmentation", 0) >= 1
    assert "next: --page 2" in shown.output
    helped = runner.invoke(app, ["search", "--help"])
    assert helped.exit_code == 0
    assert "Search past digests" in helped.output


def test_a_lone_dash_word_is_a_query(archive: None) -> None:
    result = runner.invoke(app, ["search", "-x"])
    assert "No such option" not in result.output
    assert result.exit_code in (0, 1), result.output


def test_trend_takes_dash_words(archive: None) -> None:
    result = runner.invoke(app, ["trend", "-foo", "segmentation", "--months", "2", "--end", "2026-10"])
    assert result.exit_code == 0, result.output
    assert "No such option" not in result.output
    assert "2026-10" in result.output


def test_suggestions_read_once(archive: None) -> None:
    result = runner.invoke(app, ["search", "zzyzxq"])
    assert result.exit_code == 0, result.output
    assert "Try: try" not in result.output
    assert "Try a more general word, or check the spelling." in result.output


def test_a_trend_of_no_words_prints_what_to_type_and_writes_no_chart(archive: None, tmp_path: Path) -> None:
    chart = tmp_path / "trend.png"
    result = runner.invoke(app, ["trend", "🤖", "--png", str(chart)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Type a few words to draw a trend, e.g. `diffusion video`."
    assert not chart.exists()
    drawn = runner.invoke(app, ["trend", "segmentation", "--png", str(chart)])
    assert drawn.exit_code == 0, drawn.output
    assert chart.read_bytes()[:4] == b"\x89PNG"
