"""`trends search|trend|trending|issues|issue|site`: ask the archive from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.style import Style
from rich.table import Table
from rich.text import Text

from adapters.cli.app import PANEL_ARCHIVE, PANEL_DIGEST, QueryCommand, app, console, container, quick_read

if TYPE_CHECKING:
    from bot.archive.views import SearchResult


def _print_notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        console.print(Text.assemble(("note:", "yellow"), " ", note), highlight=False)


def _print_search(result: SearchResult) -> None:
    _print_notes(result.notes)
    if not result.hits:
        console.print(result.message, highlight=False)
        if result.suggestions:
            console.print("Try: " + " · ".join(result.suggestions), highlight=False)
        if result.advice:
            console.print(result.advice, highlight=False)
        return
    table = Table(title=f"“{result.query}” — page {result.page}", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("paper")
    table.add_column("month")
    table.add_column("why it matched")
    start = (result.page - 1) * result.page_size
    for index, hit in enumerate(result.hits, start=start + 1):
        link = hit.links.abstract
        paper = Text.assemble(
            (hit.title, "bold"), "\n", f"{hit.authors_short} · ", (hit.arxiv_id, Style(link=link))
        )
        table.add_row(str(index), paper, hit.month, hit.reason)
    console.print(table)
    total = f"{result.total_estimate} results" if result.total_estimate is not None else "many results"
    more = f" · next: --page {result.page + 1}" if result.has_more else ""
    console.print(f"{total}{more}", highlight=False)


@app.command("search", cls=QueryCommand, rich_help_panel=PANEL_ARCHIVE)
def search(
    query: list[str] = typer.Argument(  # noqa: B008
        ..., help='e.g. diffusion video, "world model", author:Hopper, topic:agents, -excluded'
    ),
    page: int = typer.Option(1, "--page", min=1, help="Result page (5 per page)."),
    page_size: int = typer.Option(5, "--page-size", min=1, max=25),
    audience: str | None = typer.Option(
        None, "--audience", "-a", help="Whose topics `topic:` names (default: default)."
    ),
) -> None:
    """Search past digests and the paper archive (featured papers first)."""
    from bot.archive.service import ArchiveService

    with container() as c:
        result = ArchiveService(c).search(" ".join(query), page=page, page_size=page_size, audience=audience)
    _print_search(result)


@app.command("site", rich_help_panel=PANEL_ARCHIVE)
def site(
    out: Annotated[Path, typer.Option("--out", help="Directory to write; its site files are replaced.")],
    audience: Annotated[
        str | None,
        typer.Option(
            "--audience", "-a", help="Whose digests (see `trends audiences list`; default: default)."
        ),
    ] = None,
    all_audiences: Annotated[
        bool,
        typer.Option(
            "--all-audiences",
            help="One site per audience with published digests in OUT/<audience>/, each showing only "
            "that audience's digests, plus OUT/index.html listing every audience.",
        ),
    ] = False,
) -> None:
    """Render an audience's published digests as static HTML: the issues, an index with the months,
    topic charts and a search box. Only that audience's digests are in it."""
    from bot.site import build_all_sites, build_site

    if audience is not None and all_audiences:
        raise typer.BadParameter("give --audience NAME or --all-audiences, not both", param_hint="--audience")
    with container() as c:
        if all_audiences:
            built = build_all_sites(c.session_factory, out)
            sites, without = built.sites, built.without_digests
        else:
            sites, without = (build_site(c.session_factory, out, audience=audience),), ()
    for one in sites:
        console.print(
            f"Wrote {one.issues} issues, {one.papers} searchable papers and {one.charts} charts "
            f"of audience {one.audience} to {one.out}/index.html",
            highlight=False,
        )
    for name in without:
        console.print(
            f"Audience {name}: no digest published yet (listed in the index, no site).", highlight=False
        )
    if all_audiences:
        console.print(f"Index of the audiences: {out}/index.html", highlight=False)


@app.command("trend", cls=QueryCommand, rich_help_panel=PANEL_ARCHIVE)
def trend(
    query: Annotated[
        list[str], typer.Argument(help="Words, phrases, author:, topic:, -excluded — as for search.")
    ],
    months: int = typer.Option(12, "--months", min=1, max=120, help="How many months to show."),
    end: str | None = typer.Option(None, "--end", help="Last month (YYYY-MM); default: latest data."),
    png: str | None = typer.Option(None, "--png", help="Also write an 800×400 PNG chart to this file."),
    audience: str | None = typer.Option(
        None, "--audience", "-a", help="Whose topics `topic:` names (default: default)."
    ),
) -> None:
    """Matching papers per month, their share of all papers, and the change of the last 3 months."""
    from bot.archive.service import ArchiveService

    text = " ".join(query)
    with container() as c:
        service = ArchiveService(c)
        if png is not None:
            view, image = service.trend_chart(text, months=months, end_month=end, audience=audience)
            if image:
                Path(png).write_bytes(image)
        else:
            view = service.trend(text, months=months, end_month=end, audience=audience)
    _print_notes(view.notes)
    if not view.points:
        console.print(view.message, highlight=False)
        return
    table = Table(title=f"“{view.query}” per month")
    table.add_column("month")
    table.add_column("papers", justify="right")
    table.add_column("of all", justify="right")
    table.add_column("share", justify="right")
    table.add_column("")
    peak = max((p.count for p in view.points), default=0) or 1
    for point in view.points:
        bar = "█" * round(20 * point.count / peak)
        table.add_row(point.month, str(point.count), str(point.total), f"{100 * point.share:.2f}%", bar)
    console.print(table)
    change = view.change
    percent = f"{change.percent:+.0f}%" if change.percent is not None else "n/a (none before)"
    console.print(
        f"Last {change.months} months vs the {change.months} before: {change.recent} vs {change.previous} "
        f"papers ({change.absolute:+d}, {percent}); share {100 * change.recent_share:.2f}% vs "
        f"{100 * change.previous_share:.2f}%.",
        highlight=False,
    )
    if view.message:
        console.print(view.message, highlight=False)
    if png is not None:
        console.print(f"Chart written to {png}.")


@app.command("trending", rich_help_panel=PANEL_ARCHIVE)
def trending(
    month: str | None = typer.Option(None, "--month", help="YYYY-MM; default: the latest month with papers."),
    lookback: int = typer.Option(3, "--lookback", min=1, max=24, help="Months to compare against."),
    limit: int = typer.Option(15, "--limit", min=1, max=100),
) -> None:
    """Terms and phrases whose share of papers grew most this month."""
    from bot.archive.service import ArchiveService

    with container() as c:
        view = ArchiveService(c).trending(month, lookback=lookback, limit=limit)
    if not view.terms:
        console.print(view.message or "No emerging terms found.", highlight=False)
        return
    sample = " (estimated from a sample)" if view.sampled else ""
    table = Table(
        title=f"Emerging in {view.month}: {view.papers} papers vs {view.previous_papers} "
        f"in the {view.lookback} months before{sample}"
    )
    table.add_column("term")
    table.add_column("papers", justify="right")
    table.add_column("before /mo", justify="right")
    table.add_column("growth", justify="right")
    table.add_column("examples")
    for term in view.terms:
        examples = "\n".join(f"{e.arxiv_id} {e.title[:60]}" for e in term.examples)
        table.add_row(
            term.term, str(term.count), f"{term.previous_monthly:g}", f"×{term.growth:.1f}", examples
        )
    console.print(table)


@app.command("issues", rich_help_panel=PANEL_DIGEST)
def issues(
    audience: Annotated[str | None, typer.Option("--audience", "-a", help="Only this audience's.")] = None,
) -> None:
    """List the digests: month, title, status and number of picks."""
    from bot.archive.issue_list import issues_if_known

    summaries = quick_read(lambda reader: issues_if_known(reader, audience))
    if summaries is None:
        from bot.archive.service import ArchiveService

        with container() as c:
            summaries = ArchiveService(c).list_issues(audience=audience)
    if not summaries:
        console.print("No digest yet.")
        return
    table = Table(title="Digests")
    for column in ("month", "title", "status", "picks", "published"):
        table.add_column(column)
    for s in summaries:
        published = s.published_at.strftime("%Y-%m-%d") if s.published_at else "—"
        table.add_row(s.month, s.title, s.status, str(s.picks), published)
    console.print(table)


@app.command("issue", rich_help_panel=PANEL_DIGEST)
def issue(
    month: str = typer.Argument("latest", help="YYYY-MM or latest"),
    audience: Annotated[
        str | None, typer.Option("--audience", "-a", help="Whose digest (default: default).")
    ] = None,
) -> None:
    """Show one digest of an audience: its intro and entries."""
    from bot.archive.service import ArchiveService

    with container() as c:
        view = ArchiveService(c).issue(month, audience=audience)
    digest = view.digest
    console.print(
        Text.assemble((digest.title, "bold"), f" ({digest.month}, {digest.status})"), highlight=False
    )
    if digest.intro:
        console.print(digest.intro, highlight=False)
    table = Table()
    for column in ("#", "paper", "topic", "why"):
        table.add_column(column)
    for entry in (*digest.picks, *digest.others):
        paper = Text.assemble((entry.title, "bold"), f"\n{entry.authors_short} · {entry.arxiv_id}")
        table.add_row(str(entry.position), paper, entry.topic or "", entry.why or f"({entry.section})")
    console.print(table)
    for thread in view.threads:
        console.print(
            f"Posted to {thread.platform} {thread.workspace_id}/{thread.channel_id} ({thread.message_id})"
        )
