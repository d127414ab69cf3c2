"""`trends harvest` and `trends papers`: fetch arXiv papers into the database and look at them.

Translation only: options become dates, a month and categories; the harvester (`bot.harvest`) does the
work; its progress becomes a Rich progress bar on a terminal and plain log lines otherwise (cron, CI,
pipes).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from adapters.cli.app import PANEL_PAPERS, app, console, container, run_command
from bot.errors import ValidationError
from bot.months import Month

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from bot.db.models import Paper
    from bot.db.papers import UpsertCounts
    from bot.harvest.harvester import HarvestResult
    from bot.harvest.source import Window


def _parse_day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{option} {text[:40]!r} is not a date: use YYYY-MM-DD, e.g. 2026-10-01."
        ) from None


def resolve_window(
    from_text: str | None, to_text: str | None, month_text: str | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The days to harvest: --month, or --from/--to (either alone means that single day), or yesterday."""
    if month_text is not None:
        if from_text is not None or to_text is not None:
            raise ValidationError("Give either --month or --from/--to, not both.")
        month = Month.parse(month_text)
        return month.first_day, month.last_day
    if from_text is None and to_text is None:
        yesterday = today - dt.timedelta(days=1)
        return yesterday, yesterday
    first = _parse_day(from_text, "--from") if from_text is not None else None
    last = _parse_day(to_text, "--to") if to_text is not None else None
    first = first or last
    last = last or first
    if first is None or last is None:  # pragma: no cover - one of them was given
        raise ValidationError("Give --from and/or --to as YYYY-MM-DD.")
    if first > last:
        raise ValidationError(f"--from {first} is after --to {last}.")
    return first, last


def parse_categories(text: str | None, default: list[str]) -> list[str]:
    if text is None:
        return list(default)
    categories = [part.strip() for part in text.split(",") if part.strip()]
    if not categories:
        raise ValidationError("--categories is empty: list arXiv categories like cs.LG,cs.CL.")
    return categories


class LineProgress:
    """Progress as plain lines, for logs and pipes."""

    def window_started(self, window: Window, total: int) -> None:
        console.print(f"{window}: {total:,} papers to fetch", highlight=False, soft_wrap=True)

    def window_split(self, window: Window, total: int) -> None:
        console.print(
            f"{window}: {total:,} papers, splitting the window in two", highlight=False, soft_wrap=True
        )

    def page_stored(self, window: Window, done: int, total: int, counts: UpsertCounts) -> None:
        console.print(
            f"{window}: stored {done:,}/{total:,} "
            f"(so far {counts.inserted:,} new, {counts.updated:,} updated)",
            highlight=False,
            soft_wrap=True,
        )


class BarProgress:
    """Progress as a Rich bar per window, for a terminal."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[Window, TaskID] = {}

    def window_started(self, window: Window, total: int) -> None:
        self._tasks[window] = self._progress.add_task(str(window), total=max(total, 1))

    def window_split(self, window: Window, total: int) -> None:
        self._progress.console.print(
            f"{window}: {total:,} papers, splitting", highlight=False, soft_wrap=True
        )

    def page_stored(self, window: Window, done: int, total: int, counts: UpsertCounts) -> None:
        task = self._tasks.get(window)
        if task is not None:
            self._progress.update(task, completed=done if total else 1, total=max(total, 1))


def _summary(result: HarvestResult) -> str:
    counts = result.counts
    resumed = f", resumed from {result.resumed_from:%Y-%m-%d %H:%M} UTC" if result.resumed_from else ""
    return (
        f"Harvested {result.window.first:%Y-%m-%d} → {result.window.last:%Y-%m-%d} "
        f"({', '.join(result.categories)}): fetched {result.fetched:,}, inserted {counts.inserted:,}, "
        f"updated {counts.updated:,}, unchanged {counts.unchanged:,} in {result.seconds:.1f} s "
        f"(run #{result.run_id}{resumed})."
    )


@app.command("harvest", rich_help_panel=PANEL_PAPERS)
def harvest(
    from_: Annotated[
        str | None, typer.Option("--from", help="First submission day, YYYY-MM-DD (UTC).", show_default=False)
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last submission day, YYYY-MM-DD (UTC), included.")
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="A whole month instead of --from/--to, e.g. 2026-10.")
    ] = None,
    categories: Annotated[
        str | None,
        typer.Option("--categories", help="Comma-separated arXiv categories (default: TRENDS_CATEGORIES)."),
    ] = None,
) -> None:
    """Fetch arXiv papers submitted in a date window and store them.

    Without dates, harvests yesterday (UTC). Safe to re-run: papers change only for a newer version.

    An interrupted harvest of the same window and categories resumes where it stopped.

    Uses TRENDS_ARXIV_API_URL, waiting TRENDS_ARXIV_DELAY_SECONDS (at least 3) between requests.

    Examples: trends harvest --month 2026-10

    trends harvest --from 2026-10-01 --to 2026-10-07 --categories cs.LG,cs.CL
    """
    from bot.harvest.harvester import Harvester

    today = dt.datetime.now(dt.UTC).date()
    first, last = run_command(lambda: resolve_window(from_, to, month, today))
    with container() as c:
        chosen = parse_categories(categories, c.settings.categories)
        harvester = Harvester(c.uow, c.arxiv_source())
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                result = harvester.harvest(first, last, chosen, BarProgress(bar))
        else:
            result = harvester.harvest(first, last, chosen, LineProgress())
    console.print(_summary(result), highlight=False, soft_wrap=True)


def _first_author(paper: Paper) -> str:
    if not paper.authors:
        return "—"
    return paper.authors[0] + (" et al." if len(paper.authors) > 1 else "")


@app.command("papers", rich_help_panel=PANEL_PAPERS)
def papers(
    month: Annotated[
        str | None,
        typer.Option("--month", help="YYYY-MM (default: the month of the newest stored paper)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, max=1000, help="Rows to show.")] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Rows to skip first.")] = 0,
) -> None:
    """Show how many papers are stored for a month and list them (oldest submission first)."""
    from sqlalchemy import func, select

    from bot.db.models import Paper
    from bot.db.papers import count_month, list_month

    chosen = run_command(lambda: Month.parse(month)) if month is not None else None
    with container() as c, c.uow() as uow:
        if chosen is None:
            newest = uow.session.scalar(select(func.max(Paper.submitted_at)))
            chosen = Month.of(newest) if newest is not None else Month.current()
        total = count_month(uow.session, chosen)
        # Read what the table needs before the unit of work ends and the rows expire.
        rows = [
            (p.arxiv_id, f"{p.submitted_at:%Y-%m-%d}", p.title, _first_author(p))
            for p in list_month(uow.session, chosen, limit=limit, offset=offset)
        ]
    console.print(f"{chosen.label}: {total:,} papers stored.", highlight=False, soft_wrap=True)
    if not rows:
        if total == 0:
            console.print("Nothing yet: run `trends harvest --month " + str(chosen) + "`.")
        return
    table = Table(show_lines=False)
    table.add_column("arXiv id", no_wrap=True)
    table.add_column("submitted", no_wrap=True)
    table.add_column("title", overflow="fold")
    table.add_column("first author")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if offset + len(rows) < total:
        console.print(
            f"Showing {offset + 1}–{offset + len(rows)} of {total:,}; use --offset/--limit for more."
        )
