"""`trends signals …`: refresh momentum signals (citations, upvotes, stars) for recent months, and
prune old readings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from adapters.cli.app import PANEL_PAPERS, app, console, container
from bot.signals.types import ALL_SOURCES

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from bot.signals.types import RefreshReport, SourceReport

signals_app = typer.Typer(
    help="Momentum signals: citations, community upvotes, code stars.", no_args_is_help=True
)
app.add_typer(signals_app, name="signals", rich_help_panel=PANEL_PAPERS)


class _BarProgress:
    """A Rich progress bar per source (on a terminal)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def started(self, source: str, total: int) -> None:
        self._tasks[source] = self._progress.add_task(source, total=total)

    def advanced(self, source: str, count: int) -> None:
        if source in self._tasks:
            self._progress.advance(self._tasks[source], count)

    def finished(self, report: SourceReport) -> None:
        task = self._tasks.get(report.source)
        if task is not None:
            total = self._progress.tasks[task].total or 0
            self._progress.update(task, completed=total)


class _LineProgress:
    """Plain log lines, about every tenth of the way (logs, cron, the scheduler)."""

    def __init__(self) -> None:
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._next_line: dict[str, int] = {}

    def started(self, source: str, total: int) -> None:
        self._totals[source], self._done[source] = total, 0
        self._next_line[source] = max(total // 10, 1)
        console.print(f"{source}: {total} papers to look at", highlight=False, soft_wrap=True)

    def advanced(self, source: str, count: int) -> None:
        self._done[source] = done = self._done.get(source, 0) + count
        if done >= self._next_line.get(source, 1) and done < self._totals.get(source, 0):
            console.print(f"{source}: {done}/{self._totals[source]}", highlight=False, soft_wrap=True)
            self._next_line[source] = done + max(self._totals[source] // 10, 1)

    def finished(self, report: SourceReport) -> None:
        console.print(
            f"{report.source}: done in {report.duration_seconds:.1f}s", highlight=False, soft_wrap=True
        )


def _render(report: RefreshReport) -> None:
    """One line per source (narrow terminals and log files read it as well as wide ones)."""
    console.print(
        f"Signals for {', '.join(report.months)}: {report.papers} papers", highlight=False, soft_wrap=True
    )
    if not report.sources:
        console.print("No signal source is enabled (see TRENDS_SIGNALS_*_ENABLED).")
        return
    for s in report.sources:
        console.print(
            f"  {s.source}: {s.requested} asked, {s.updated} updated, {s.unchanged} unchanged, "
            f"{s.unknown} unknown, {s.failed} failed, {s.skipped} skipped "
            f"in {s.duration_seconds:.1f}s ({s.calls} requests)",
            highlight=False,
            soft_wrap=True,
        )
        if s.gave_up:
            console.print(
                Text.assemble("    ", ("gave up:", "yellow"), " ", s.gave_up), highlight=False, soft_wrap=True
            )
        if s.errors:
            console.print(f"    problems: {s.error_summary()}", highlight=False, soft_wrap=True)
    if not report.ok:
        console.print(
            "Some papers got no fresh signals; they keep their earlier readings. "
            "The next refresh tries again.",
            style="yellow",
        )
    if failed := report.failed_sources:
        console.print(
            Text.assemble(("Failed entirely:", "red"), " ", ", ".join(failed)),
            highlight=False,
            soft_wrap=True,
        )


@signals_app.command("refresh")
def refresh(
    month: Annotated[
        list[str] | None,
        typer.Option("--month", help="A month YYYY-MM; repeat for several (default: this and last month)."),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help=f"Only this source ({', '.join(ALL_SOURCES)}); repeatable."),
    ] = None,
) -> None:
    """Fetch citations, upvotes and stars for the month's papers and store what changed.

    A source that is down or slow is reported and skipped; it never stops the others. Exits 1 (after
    the report) when any source failed entirely, i.e. got nothing usable back; 0 otherwise, even if
    some papers failed.
    """
    from bot.signals.service import refresh as refresh_signals

    with container() as c:
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(
                TextColumn("{task.description:<16}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                report = refresh_signals(c, month, source, progress=_BarProgress(bar))
        else:
            report = refresh_signals(c, month, source, progress=_LineProgress())
        _render(report)
    if report.failed_sources:
        raise typer.Exit(1)


@signals_app.command("prune")
def prune(
    keep_days: Annotated[
        int,
        typer.Option("--keep-days", min=1, max=36_500, help="Keep readings seen in the last N days."),
    ],
) -> None:
    """Delete readings last seen more than N days ago, except the newest of each paper's signal.

    Ranking keeps every latest value; growth over a pruned span is then counted since submission.
    """
    from bot.signals.service import prune as prune_signals

    with container() as c:
        deleted, cutoff = prune_signals(c, keep_days)
        console.print(
            f"Deleted {deleted} signal readings last seen before {cutoff:%Y-%m-%d %H:%M} UTC.",
            highlight=False,
            soft_wrap=True,
        )
