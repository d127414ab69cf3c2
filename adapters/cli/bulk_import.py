"""`trends import FILE`: load papers from arXiv's metadata snapshot (or a pool file) without the API.

Translation only: options become an `ImportFilter`; `bot.harvest.bulk.BulkImporter` does the work; its
progress becomes a Rich bar (bytes of the file, papers and papers/s) on a terminal and a line every few
seconds otherwise. Skipped lines are logged above the bar as they are met, and summed up at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.app import PANEL_PAPERS, app, console, container, run_command
from bot.errors import ValidationError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from bot.bootstrap import Container
    from bot.harvest.bulk import ImportFilter, ImportResult

LINE_EVERY_SECONDS = 5.0


def parse_day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{option} {text[:40]!r} is not a date: use YYYY-MM-DD, e.g. 2024-01-31."
        ) from None


def build_filter(categories: str | None, from_text: str | None, to_text: str | None) -> ImportFilter:
    from bot.harvest.bulk import ImportFilter

    chosen = None
    if categories is not None:
        chosen = frozenset(part.strip() for part in categories.split(",") if part.strip())
        if not chosen:
            raise ValidationError("--categories is empty: list arXiv categories like cs.LG,cs.CL.")
    return ImportFilter(chosen, parse_day(from_text, "--from"), parse_day(to_text, "--to"))


class _BarProgress:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def batch_stored(self, result: ImportResult, bytes_read: int, bytes_total: int) -> None:
        rate = result.accepted / result.seconds if result.seconds else 0.0
        self._progress.update(
            self._task, completed=bytes_read, total=max(bytes_total, 1), papers=result.accepted, rate=rate
        )


class _LineProgress:
    def __init__(self) -> None:
        self._last = time.monotonic()

    def batch_stored(self, result: ImportResult, bytes_read: int, bytes_total: int) -> None:
        if time.monotonic() - self._last < LINE_EVERY_SECONDS:
            return
        self._last = time.monotonic()
        share = 100 * bytes_read / bytes_total if bytes_total else 100.0
        rate = result.accepted / result.seconds if result.seconds else 0.0
        console.print(
            f"{share:5.1f}% of the file: {result.accepted:,} papers ({rate:,.0f}/s), "
            f"{sum(result.skipped.values()):,} lines skipped",
            highlight=False,
        )


@contextmanager
def _skips_shown() -> Iterator[None]:
    """Skipped-line warnings of the importer on the console (above the bar), while it runs."""
    from rich.logging import RichHandler

    logger = logging.getLogger("bot.harvest.bulk")
    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def run_import(c: Container, path: Path, filters: ImportFilter) -> ImportResult:
    """Import `path` with a progress bar (or lines); shared by `trends import` and `trends quickstart`."""
    from bot.harvest.bulk import BulkImporter

    importer = BulkImporter(c.uow)
    with _skips_shown():
        if not console.is_terminal:
            return importer.run(path, filters, _LineProgress())
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        with Progress(
            TextColumn("Importing {task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[papers]:,} papers · {task.fields[rate]:,.0f} papers/s"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(path.name, total=max(path.stat().st_size, 1), papers=0, rate=0.0)
            return importer.run(path, filters, _BarProgress(bar, task))


def summary(result: ImportResult) -> str:
    from bot.harvest.bulk import FORMAT_NAMES

    counts = result.counts
    kind = FORMAT_NAMES.get(result.format or "", "no papers found")
    rate = result.accepted / result.seconds if result.seconds else 0.0
    lines = [
        f"Imported {result.path.name} ({kind}): {counts.inserted:,} new, {counts.updated:,} updated, "
        f"{counts.unchanged:,} unchanged; {result.filtered:,} outside the filters. "
        f"{result.lines:,} lines in {result.seconds:.1f} s ({rate:,.0f} papers/s)."
    ]
    if result.signals:
        lines.append(f"Stored {result.signals:,} signal readings that came with the papers.")
    if result.skipped:
        total = sum(result.skipped.values())
        lines.append(f"Skipped {total:,} line{'s' if total != 1 else ''}:")
        for reason, count in result.skipped.most_common():
            shown = ", ".join(str(n) for n in result.skipped_lines.get(reason, []))
            more = ", …" if count > len(result.skipped_lines.get(reason, [])) else ""
            lines.append(f"  {reason}: {count:,} (line{'s' if count != 1 else ''} {shown}{more})")
    return "\n".join(lines)


@app.command("import", rich_help_panel=PANEL_PAPERS)
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            help="arxiv-metadata-oai-snapshot.json (arXiv's bulk metadata) or a pool file; .gz is fine.",
            show_default=False,
        ),
    ],
    categories: Annotated[
        str | None,
        typer.Option("--categories", help="Only papers in any of these comma-separated categories."),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Only papers whose first version is from this day on, YYYY-MM-DD."),
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="... up to this day (included), YYYY-MM-DD.")] = None,
) -> None:
    """Load papers from a JSON-lines file: arXiv's metadata snapshot or a pool file, plain or gzipped.

    For years of history, or a machine without internet. Get the snapshot arXiv publishes for bulk
    access (arxiv-metadata-oai-snapshot.json, ~4 GB), then e.g.:

    trends import arxiv-metadata-oai-snapshot.json --categories cs.LG,cs.CL --from 2023-01-01

    Dates are those of a paper's first version (v1), not arXiv's announcement day. Safe to re-run:
    a paper changes only for a newer version. Lines that cannot be used are skipped and listed.
    """
    filters = run_command(lambda: build_filter(categories, from_, to))
    with container() as c:
        try:
            result = run_import(c, file, filters)
        except KeyboardInterrupt:
            console.print(
                "Interrupted: the batches stored so far are kept. Run the same import again to complete "
                "it (papers already stored are left as they are).",
                highlight=False,
            )
            raise typer.Exit(130) from None
    console.print(summary(result), highlight=False, soft_wrap=True)
    if result.accepted:
        month = result.busiest_month
        console.print(
            f"Try: trends papers --month {month} | trends search <words> | trends digest --month {month}",
            highlight=False,
            soft_wrap=True,
        )
