"""`trends quickstart`: the main job in one command, on a fresh machine.

Creates the database, harvests a month from arXiv (last month by default) with a progress bar of
pages, papers and the time left, ranks the month and prints its digest. With `--from FILE` it imports
a file instead (arXiv's metadata snapshot or a pool file) and digests the month of the file with most
papers. Everything it stores stays: the next `trends` commands work on the same database.

Offline it stops at once with one message that says how to import a file instead; an interrupted
harvest (Ctrl-C, a network failure) keeps every page stored, and running the command again resumes.
"""

from __future__ import annotations

import datetime as dt
import math
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from adapters.cli.app import PANEL_START, app, console, container, fail, run_command
from bot.errors import SourceError
from bot.months import Month

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from bot.bootstrap import Container
    from bot.db.papers import UpsertCounts
    from bot.harvest.source import Window
    from bot.settings import Settings

OFFLINE_HINT = (
    "To work offline, import a file instead: `trends import FILE`, or `trends quickstart --from FILE` "
    "(FILE: arXiv's metadata snapshot arxiv-metadata-oai-snapshot.json, plain or .gz)."
)


def arxiv_reachable(settings: Settings, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the arXiv API endpoint opens (a cheap online check)."""
    parts = urlsplit(settings.arxiv_api_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


class MonthProgress:
    """One bar for the whole month: papers stored of the month's total, pages, and the time left.

    The first answer for the month's window carries its total (before any split into smaller windows),
    so the bar's total is known from the first page on; each window reports how far it got.
    """

    def __init__(self, progress: Progress, task: TaskID, page_size: int) -> None:
        self._progress = progress
        self._task = task
        self._page_size = page_size
        self._total: int | None = None
        self._done: dict[Window, int] = {}
        self._pages = 0

    def _first(self, total: int) -> None:
        if self._total is None:
            self._total = total
            self._progress.update(self._task, total=max(total, 1), pages_total=self._pages_for(total))

    def _pages_for(self, total: int) -> int:
        return max(1, math.ceil(total / self._page_size))

    def window_started(self, window: Window, total: int) -> None:
        self._first(total)

    def window_split(self, window: Window, total: int) -> None:
        self._first(total)
        self._pages += 1  # the discarded first page of a split window was fetched too

    def page_stored(self, window: Window, done: int, total: int, counts: UpsertCounts) -> None:
        self._done[window] = done
        self._pages += 1
        papers = sum(self._done.values())
        self._progress.update(self._task, completed=papers, pages=self._pages)


def _harvest(c: Container, target: Month) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from bot.harvest.harvester import Harvester

    last_day = min(target.last_day, dt.datetime.now(dt.UTC).date())
    harvester = Harvester(c.uow, c.arxiv_source())
    with Progress(
        # The label is text, not a format string: its braces must survive `str.format`.
        TextColumn(target.label.replace("{", "{{").replace("}", "}}"), markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("papers · page {task.fields[pages]}/{task.fields[pages_total]} · left"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("harvest", total=None, pages=0, pages_total="?")
        progress = MonthProgress(bar, task, c.settings.arxiv_page_size)
        result = harvester.harvest(target.first_day, last_day, c.settings.categories, progress)
    resumed = f", resumed from {result.resumed_from:%Y-%m-%d %H:%M} UTC" if result.resumed_from else ""
    console.print(
        f"Stored {result.fetched:,} papers ({result.counts.inserted:,} new) from {result.pages} "
        f"page{'s' if result.pages != 1 else ''} "
        f"in {result.seconds:.0f} s{resumed}.",
        highlight=False,
    )


def _import(c: Container, path: Path, month: Month | None) -> Month:
    from adapters.cli.bulk_import import run_import, summary
    from bot.harvest.bulk import ImportFilter

    # The configured categories, as the online quickstart harvests them: a whole snapshot holds all of
    # arXiv, and the digest is about these.
    result = run_import(c, path, ImportFilter(frozenset(c.settings.categories)))
    console.print(summary(result), highlight=False, soft_wrap=True)
    chosen = month or result.busiest_month
    if chosen is None:
        fail(f"{path.name} holds no papers in {', '.join(c.settings.categories)}: nothing to digest.")
    return chosen


@app.command("quickstart", rich_help_panel=PANEL_START)
def quickstart(
    month: Annotated[
        str | None,
        typer.Option(
            "--month", help="Month to digest (default: last month; with --from, the file's busiest)."
        ),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Import this file (arXiv's metadata snapshot or a pool file, .gz ok) instead of harvesting.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Set up the database, harvest last month from arXiv (or import a file), print its digest.

    Online this harvests every paper of the month in the configured categories: a few minutes at
    arXiv's pace of one request every 3 seconds. Interrupting is safe; running it again resumes.

    Without internet: trends quickstart --from arxiv-metadata-oai-snapshot.json
    """
    from rich.markdown import Markdown

    from bot.digest.render import render_markdown
    from bot.digest.service import DigestService

    chosen = run_command(lambda: Month.parse(month)) if month else None
    with container() as c:
        where = c.engine.url.render_as_string(hide_password=True)
        console.print(f"Database: {where} (schema ready).", highlight=False)
        if from_file is not None:
            target = _import(c, from_file, chosen)
        else:
            target = chosen or Month.current().previous()
            if not arxiv_reachable(c.settings):
                host = urlsplit(c.settings.arxiv_api_url).hostname or c.settings.arxiv_api_url
                fail(f"arXiv ({host}) is unreachable. {OFFLINE_HINT}")
            console.print(
                f"Harvesting {target.label} from arXiv ({', '.join(c.settings.categories)})…",
                highlight=False,
                soft_wrap=True,
            )
            try:
                _harvest(c, target)
            except SourceError as exc:
                fail(f"{exc} {OFFLINE_HINT}")
            except KeyboardInterrupt:
                console.print(
                    "Interrupted: the pages fetched so far are stored. Run `trends quickstart` again "
                    "to resume.",
                    highlight=False,
                )
                raise typer.Exit(130) from None
        digest = DigestService(c.uow, c.settings).build(target)
        markdown = render_markdown(digest)
        if console.is_terminal:
            console.print(Markdown(markdown))
        else:
            console.print(markdown, highlight=False, soft_wrap=True, markup=False)
        console.print(
            f"\nNext: `trends search diffusion`, `trends rank --month {target} --explain`, "
            f"`trends digest --month {target} --out digest.md`, `trends --help`.",
            highlight=False,
            soft_wrap=True,
        )
