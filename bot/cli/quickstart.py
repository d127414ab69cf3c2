"""`trends quickstart`: the main job in one command, on a fresh machine.

Creates the database, harvests last month from arXiv (or, when arXiv can't be reached, loads the
bundled sample of real papers), ranks the month and prints its digest. Everything it stores stays: the
next `trends` commands work on the same database.
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from bot.cli.app import PANEL_START, app, console, container
from bot.errors import SourceError
from bot.months import Month

if TYPE_CHECKING:
    from bot.settings import Settings


def arxiv_reachable(settings: Settings, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the arXiv API endpoint opens (a cheap online check)."""
    parts = urlsplit(settings.arxiv_api_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


@app.command("quickstart", rich_help_panel=PANEL_START)
def quickstart(
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the bundled sample; don't try arXiv.")
    ] = False,
    month: Annotated[
        str | None, typer.Option("--month", help="Month to harvest and digest (default: last month).")
    ] = None,
) -> None:
    """Set up the database, harvest a month (or load the bundled sample offline), print its digest.

    Online this harvests every paper of last month in the configured categories: a few minutes at
    arXiv's pace of one request every 3 seconds. Interrupting is safe; running it again resumes.
    """
    from rich.markdown import Markdown

    from bot.digest.render import render_markdown
    from bot.digest.service import DigestService
    from bot.harvest.harvester import Harvester, store_records
    from bot.sample import SAMPLE_MONTH, load_sample

    with container() as c:
        where = c.engine.url.render_as_string(hide_password=True)
        console.print(f"Database: {where} (schema ready).", highlight=False)
        target = Month.parse(month) if month else Month.current().previous()
        use_sample = offline or not arxiv_reachable(c.settings)
        if not use_sample:
            console.print(
                f"Harvesting {target.label} from arXiv ({', '.join(c.settings.categories)})…",
                highlight=False,
            )
            try:
                result = Harvester(c.uow, c.arxiv_source()).harvest(
                    target.first_day,
                    min(target.last_day, dt.datetime.now(dt.UTC).date()),
                    c.settings.categories,
                )
                stored = f"{result.fetched:,} papers ({result.counts.inserted:,} new)"
                console.print(f"Stored {stored} in {result.seconds:.0f} s.", highlight=False)
            except SourceError as exc:
                console.print(f"[yellow]arXiv harvest failed:[/yellow] {exc}", highlight=False)
                use_sample = True
        if use_sample:
            target = Month.parse(SAMPLE_MONTH)
            counts = store_records(c.uow, load_sample())
            console.print(
                f"Offline: loaded the bundled sample ({counts.total} real papers from {target.label}).",
                highlight=False,
            )
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
