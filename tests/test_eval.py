"""`trends eval`: a labelled month ranked in memory, against baselines, without any database."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import app

DATA = Path(__file__).parent / "data" / "ranking"
POOL = DATA / "pool.jsonl"
runner = CliRunner()


def run_eval(*args: str) -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["eval", *args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def test_json_shape_and_values() -> None:
    report = run_eval("--pool", str(POOL), "--labels", str(DATA / "labels.json"))
    assert set(report) == {"ranker", "baselines"}
    assert set(report["baselines"]) == {"random", "newest", "topic_bm25", "authors"}
    keys = {"recall@10", "recall@50", "recall@200", "precision@50"}
    for metrics in [report["ranker"], *report["baselines"].values()]:
        assert set(metrics) == keys  # type: ignore[arg-type]
    ranker, baselines = report["ranker"], report["baselines"]
    # The four picks (the null-id pick does not count) are the only topical papers: all in the top 10.
    assert ranker == {"recall@10": 1.0, "recall@50": 1.0, "recall@200": 1.0, "precision@50": None}
    # The picks are the oldest papers of the pool: newest-first finds none in its top 10.
    assert baselines["newest"]["recall@10"] == 0.0  # type: ignore[index]
    assert baselines["authors"]["recall@10"] == 1.0  # type: ignore[index]


def test_precision_against_extended_ranked_and_gzip_pool(tmp_path: Path) -> None:
    packed = tmp_path / "pool.jsonl.gz"
    packed.write_bytes(gzip.compress(POOL.read_bytes()))
    report = run_eval("--pool", str(packed), "--labels", str(DATA / "labels-extended.json"))
    # Five popular papers are in the pool and all are within any top 50 of a 40-paper pool.
    assert report["ranker"]["precision@50"] == 0.1  # type: ignore[index]
    assert report["baselines"]["random"]["precision@50"] == 0.1  # type: ignore[index]


def test_topics_file_changes_the_ranking() -> None:
    report = run_eval(
        "--pool", str(POOL), "--labels", str(DATA / "labels.json"), "--topics", str(DATA / "topics.toml")
    )
    # A "Soil" topic weighted 2.0 and priors off: soil papers crowd the top 10, one agent pick remains.
    assert report["ranker"]["recall@10"] == 0.25  # type: ignore[index]


def test_does_not_touch_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "never.db"
    monkeypatch.setenv("TRENDS_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.chdir(tmp_path)
    run_eval("--pool", str(POOL), "--labels", str(DATA / "labels.json"))
    assert not database.exists()
    assert list(tmp_path.iterdir()) == []


def test_table_output_names_every_method() -> None:
    result = runner.invoke(app, ["eval", "--pool", str(POOL), "--labels", str(DATA / "labels.json")])
    assert result.exit_code == 0, result.output
    for name in ("ranker", "random", "newest", "topic_bm25", "authors", "recall@50"):
        assert name in result.stdout


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    labels = str(DATA / "labels.json")
    missing = runner.invoke(app, ["eval", "--pool", str(tmp_path / "nope.jsonl"), "--labels", labels])
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text(POOL.read_text().splitlines()[0] + '\n{"id": "2501.1", "title": \n', encoding="utf-8")
    bad_line = runner.invoke(app, ["eval", "--pool", str(broken), "--labels", labels])
    assert bad_line.exit_code == 1
    assert "line 2 is not JSON" in bad_line.output
    wrong_type = tmp_path / "wrong.jsonl"
    wrong_type.write_text('{"id": 5, "title": "x"}\n', encoding="utf-8")
    assert (
        "`id` must be a string"
        in runner.invoke(app, ["eval", "--pool", str(wrong_type), "--labels", labels]).output
    )
    no_picks = tmp_path / "labels.json"
    no_picks.write_text('{"topics": []}', encoding="utf-8")
    result = runner.invoke(app, ["eval", "--pool", str(POOL), "--labels", str(no_picks)])
    assert result.exit_code == 1
    assert "no `picks`" in result.output
    bad_toml = tmp_path / "topics.toml"
    bad_toml.write_text('[[topics]]\nname = ""\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", "--pool", str(POOL), "--labels", labels, "--topics", str(bad_toml)])
    assert result.exit_code == 1
    assert "topic 1, `name`" in result.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "--pool", str(empty), "--labels", labels])
    assert result.exit_code == 1
    assert "empty" in result.output
