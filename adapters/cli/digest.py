"""`trends digest`, `trends rank` and `trends topics …`: the monthly digest and the topics behind it."""

from __future__ import annotations

import getpass
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from adapters.cli.app import PANEL_DIGEST, app, console, container, fail, quick_read, topics_app
from bot.months import Month

if TYPE_CHECKING:
    from bot.digest.views import TopicView


class OutputFormat(StrEnum):
    markdown = "markdown"
    json = "json"


MonthOption = Annotated[
    str | None, typer.Option("--month", "-m", help="Month as YYYY-MM (default: last month).")
]
AudienceOption = Annotated[
    str | None,
    typer.Option(
        "--audience", "-a", help="Whose topics/digest (see `trends audiences list`; default: default)."
    ),
]


def _month(text: str | None, timezone: str) -> Month:
    """The given month, else the one that just ended in the team's time zone (as the scheduler sees it)."""
    return Month.parse(text) if text is not None else Month.current(timezone=timezone).previous()


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


@app.command("digest", rich_help_panel=PANEL_DIGEST)
def digest(
    month: MonthOption = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="markdown or json.")
    ] = OutputFormat.markdown,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    audience: AudienceOption = None,
) -> None:
    """Build (or rebuild) the month's draft digest, store it, and print or write it."""
    from bot.digest.render import render_json, render_markdown
    from bot.digest.service import DigestService

    with container() as c:
        view = DigestService(c.uow, c.settings).build(_month(month, c.settings.timezone), audience=audience)
    text = render_json(view) if output_format is OutputFormat.json else render_markdown(view)
    if out is None:
        console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"can't write {out}: {exc.strerror}", param_hint="--out") from None
    console.print(f"Wrote the {view.month_label} draft ({len(view.picks)} picks) to {out}.")


@app.command("rank", rich_help_panel=PANEL_DIGEST)
def rank(
    month: MonthOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="Papers to show.")] = 20,
    show_explain: Annotated[
        bool, typer.Option("--explain", help="Show each paper's topic, terms and score components.")
    ] = False,
    audience: AudienceOption = None,
) -> None:
    """Rank the month's papers against the topics, without storing anything."""
    from bot.digest.service import DigestService
    from bot.ranking import explain

    with container() as c:
        chosen = _month(month, c.settings.timezone)
        selection = DigestService(c.uow, c.settings).rank(chosen, audience=audience)
    picked = {p.candidate.arxiv_id: "pick" for p in selection.picks}
    picked.update({p.candidate.arxiv_id: "other" for p in selection.others})
    table = Table(title=f"Ranking for {chosen.label}")
    table.add_column("#", justify="right")
    table.add_column("Score", justify="right")
    table.add_column("arXiv id")
    table.add_column("Title", overflow="fold")
    table.add_column("Topic")
    table.add_column("In digest")
    shown = selection.ranked[:limit]
    for index, scored in enumerate(shown, start=1):
        table.add_row(
            str(index),
            f"{scored.score:.3f}",
            scored.candidate.arxiv_id,
            scored.candidate.title,
            scored.topic or "—",
            picked.get(scored.candidate.arxiv_id, ""),
        )
    console.print(table)
    if show_explain:
        for note in selection.notes:
            console.print(note, highlight=False, soft_wrap=True)
        # One block per paper below the table: the explanation is several lines and reads best whole.
        for index, scored in enumerate(shown, start=1):
            console.print(
                Text.assemble("\n", (f"#{index}", "bold"), " ", explain(scored)),
                highlight=False,
                soft_wrap=True,
            )


# ------------------------------------------------------------------------------------------- topics


def _print_topics(topics: list[TopicView]) -> None:
    """One block per topic, every phrase shown, wrapped to the terminal with its indent kept.

    A block rather than a seven-column table: a topic has up to 30 phrases of up to 80 characters,
    which a table folds into slivers a word wide in an 80-column terminal.
    """
    width = max(40, console.width)
    for index, t in enumerate(topics):
        if index:
            console.print()
        state = "on" if t.enabled else "off"
        console.print(Text.assemble((t.name, "bold"), f" — {state}, weight {t.weight:g}"), highlight=False)
        fields = [("", t.description), ("include: ", _phrases(t.include))]
        fields += [("exclude: ", _phrases(t.exclude)), ("examples: ", _phrases(t.examples))]
        for label, value in fields:
            if value:
                lines = textwrap.wrap(
                    value,
                    width=width,
                    initial_indent=f"  {label}",
                    subsequent_indent=" " * (2 + len(label)),
                    break_on_hyphens=False,
                )
                console.print("\n".join(lines).replace(_KEEP_TOGETHER, " "), highlight=False, soft_wrap=True)


_KEEP_TOGETHER = "\u00a0"  # textwrap does not break at a no-break space: a phrase stays on one line


def _phrases(phrases: tuple[str, ...]) -> str:
    return ", ".join(phrase.replace(" ", _KEEP_TOGETHER) for phrase in phrases)


IncludeOption = Annotated[
    list[str] | None, typer.Option("--include", "-i", help="Phrase that marks the topic (repeatable).")
]
ExcludeOption = Annotated[
    list[str] | None, typer.Option("--exclude", "-x", help="Phrase that rules a paper out (repeatable).")
]
ExampleOption = Annotated[
    list[str] | None, typer.Option("--example", "-e", help="arXiv id of a typical paper (repeatable).")
]


@topics_app.command("list")
def topics_list(audience: AudienceOption = None) -> None:
    """Show an audience's topics (seeding the defaults on first use)."""
    from bot.digest.topic_list import topics_if_seeded

    topics = quick_read(lambda reader: topics_if_seeded(reader, audience))
    if topics is None:
        from bot.digest.topics import TopicService

        with container() as c:
            topics = TopicService(c.uow, c.settings).list_topics(audience=audience)
    _print_topics(topics)


@topics_app.command("add")
def topics_add(
    name: str,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    example: ExampleOption = None,
    weight: Annotated[float, typer.Option(help="0–10; 1 is neutral.")] = 1.0,
    description: Annotated[str, typer.Option(help="What the topic is about, in a sentence.")] = "",
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off.")] = False,
    audience: AudienceOption = None,
) -> None:
    """Add a topic, e.g. trends topics add "Robotics" --include "robot learning" --weight 1.2"""
    from bot.digest.topics import TopicDraft, TopicService

    draft = TopicDraft(
        name=name,
        description=description,
        include=include or [],
        exclude=exclude or [],
        examples=example or [],
        weight=weight,
        enabled=not disabled,
    )
    with container() as c:
        view = TopicService(c.uow, c.settings).add(draft, actor=_actor(), audience=audience)
    console.print(f"Added topic “{view.name}”.")
    _print_topics([view])


@topics_app.command("edit")
def topics_edit(
    name: str,
    rename: Annotated[str | None, typer.Option("--rename", help="New name.")] = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    example: ExampleOption = None,
    clear_exclude: Annotated[
        bool, typer.Option("--clear-exclude", help="Remove every exclude phrase.")
    ] = False,
    clear_examples: Annotated[bool, typer.Option("--clear-examples", help="Remove every example.")] = False,
    weight: Annotated[float | None, typer.Option(help="0–10; 1 is neutral.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    audience: AudienceOption = None,
) -> None:
    """Change a topic; a list option given replaces that whole list."""
    from bot.digest.topics import TopicChanges, TopicService

    if clear_exclude and exclude:
        fail("Use either --exclude or --clear-exclude, not both.")
    if clear_examples and example:
        fail("Use either --example or --clear-examples, not both.")
    changes = TopicChanges(
        name=rename,
        description=description,
        include=include or None,
        exclude=[] if clear_exclude else (exclude or None),
        examples=[] if clear_examples else (example or None),
        weight=weight,
    )
    with container() as c:
        view = TopicService(c.uow, c.settings).edit(name, changes, actor=_actor(), audience=audience)
    console.print(f"Updated topic “{view.name}”.")
    _print_topics([view])


@topics_app.command("remove")
def topics_remove(name: str, audience: AudienceOption = None) -> None:
    """Delete a topic (the ranking stops using it at the next digest)."""
    from bot.digest.topics import TopicService

    with container() as c:
        view = TopicService(c.uow, c.settings).remove(name, actor=_actor(), audience=audience)
    console.print(f"Removed topic “{view.name}”.")


@topics_app.command("enable")
def topics_enable(name: str, audience: AudienceOption = None) -> None:
    """Switch a topic on."""
    from bot.digest.topics import TopicService

    with container() as c:
        view = TopicService(c.uow, c.settings).enable(name, actor=_actor(), audience=audience)
    console.print(f"Topic “{view.name}” is enabled.")


@topics_app.command("disable")
def topics_disable(name: str, audience: AudienceOption = None) -> None:
    """Switch a topic off without losing its settings."""
    from bot.digest.topics import TopicService

    with container() as c:
        view = TopicService(c.uow, c.settings).disable(name, actor=_actor(), audience=audience)
    console.print(f"Topic “{view.name}” is disabled.")
