"""`trends eval`: measure the ranker and simple baselines on a labelled month, without the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.cli.app import PANEL_DIGEST, app, console, run_command


@app.command("eval", rich_help_panel=PANEL_DIGEST)
def eval_command(
    pool: Annotated[Path, typer.Option("--pool", help="Pool of papers: JSON lines, optionally .gz.")],
    labels: Annotated[
        Path, typer.Option("--labels", help="Labels JSON with `picks` (and `extended_ranked`).")
    ],
    topics: Annotated[
        Path | None,
        typer.Option("--topics", help="TOML with [[topics]] (and [weights]); default topics if absent."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Rank a labelled month in memory and report recall@10/50/200 and precision@50 against baselines."""
    from bot.ranking.default_topics import DEFAULT_TOPICS
    from bot.ranking.evaluation import evaluate, load_labels, load_pool, load_topics_file

    def run() -> dict[str, Any]:
        topic_specs, weights = load_topics_file(topics) if topics else (DEFAULT_TOPICS, None)
        return evaluate(load_pool(pool), load_labels(labels), topics=topic_specs, weights=weights)

    report = run_command(run)
    if as_json:
        typer.echo(json.dumps(report, sort_keys=False))
        return
    table = Table(title=f"Ranking quality on {pool.name}")
    columns = list(report["ranker"])
    table.add_column("ranker / baseline")
    for column in columns:
        table.add_column(column, justify="right")
    rows = [("ranker", report["ranker"]), *report["baselines"].items()]
    for name, values in rows:
        style = "bold" if name == "ranker" else None
        table.add_row(name, *(_cell(values[c]) for c in columns), style=style)
    console.print(table)


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
