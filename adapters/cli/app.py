"""The `trends` Typer application object and what every command shares.

Command modules (`adapters/cli/*.py`) attach their commands to `app` (or to a sub-app added here); a
command's docstring is its `--help` text. `run_command` is the CLI's single error hook: a
`TrendsError` becomes a short red message and exit code 1 (2 for configuration), anything else is a
bug and keeps its traceback.

Keep this module and the command modules cheap to import: `trends --help` loads every command module,
so a command imports the services (and the libraries behind them) it uses inside its body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperCommand

from bot.errors import ConfigError, TrendsError

if TYPE_CHECKING:
    from bot.bootstrap import Container
    from bot.db.reader import SqlReader

app = typer.Typer(
    name="trends",
    help="ai-trends-bot: harvest arXiv, rank the month's papers, post a 'Trends in AI' digest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Sections of `trends --help`, in reading order for a newcomer.
PANEL_START = "Start here"
PANEL_PAPERS = "Papers"
PANEL_ARCHIVE = "Ask the archive"
PANEL_DIGEST = "Digest and topics"
PANEL_RUN = "Run and operate"

db_app = typer.Typer(help="Database schema: create and migrate.", no_args_is_help=True)
topics_app = typer.Typer(help="Topics the ranking scores papers against (admin).", no_args_is_help=True)
app.add_typer(db_app, name="db", rich_help_panel=PANEL_RUN)
app.add_typer(topics_app, name="topics", rich_help_panel=PANEL_DIGEST)
audiences_app = typer.Typer(
    help="Audiences: teams with their own topics, channels and digest, and who administers them.",
    no_args_is_help=True,
)
app.add_typer(audiences_app, name="audiences", rich_help_panel=PANEL_DIGEST)
owners_app = typer.Typer(help="Workspaces whose admins administer an audience.", no_args_is_help=True)
audiences_app.add_typer(owners_app, name="owners")


class QueryCommand(TyperCommand):
    """A command whose free-text query may hold words that start with a dash.

    In a query, `-image` means "without image", so `trends search -image segmentation` must not fail
    with "No such option: -i". The command's own options (`--page 2`, `--help`) are taken wherever they
    stand; every other word, dashed or not, is handed to the query argument as typed.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if getattr(param, "param_type_name", "") == "option":
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (
                        getattr(param, "is_flag", False) or getattr(param, "count", False)
                    )
        options: list[str] = []
        words: list[str] = []
        tokens = iter(args)
        for token in tokens:
            if token == "--":  # noqa: S105 (the end-of-options marker, not a secret)
                words.extend(tokens)
                break
            name = token.split("=", 1)[0] if token.startswith("--") else token
            if name not in takes_value:
                words.append(token)
                continue
            options.append(token)
            if takes_value[name] and "=" not in token:
                value = next(tokens, None)
                if value is not None:
                    options.append(value)
        return list(super().parse_args(ctx, [*options, "--", *words]))


# No console markup: what the CLI prints is mostly text from people and papers ("[/x]" in a topic name
# would be read as a closing tag and crash the command). Styles are applied explicitly (`Text`, style=).
console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(Text.assemble(("Error:", "red"), " ", message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def container(*, check_schema: bool = True) -> Iterator[Container]:
    """Build the app container for one command, turning expected errors into friendly exits."""
    from bot.bootstrap import build

    try:
        built = build(check_schema=check_schema)
    except ConfigError as exc:
        fail(str(exc), code=2)
    except TrendsError as exc:
        fail(str(exc))
    try:
        yield built
    except ConfigError as exc:  # e.g. invalid topics in trends.toml, found when first seeded
        fail(str(exc), code=2)
    except TrendsError as exc:
        fail(str(exc))
    finally:
        built.close()


def quick_read(query: Callable[[SqlReader], T | None]) -> T | None:
    """`query`'s answer read through the database driver alone, or None: then take `container()`.

    For the light read-only commands (`topics list`, `issues`, `status`): skipping SQLAlchemy saves
    them ~0.2 s of CPU (bench/cli_startup.py). None covers everything the full path must handle: a
    new or outdated database, an audience to seed, an unknown name, a driver error (bot.db.dbapi).
    """
    from bot.db.dbapi import read_if_current
    from bot.settings import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc), code=2)
    return read_if_current(settings.database_url, query)


def run_command(func: Callable[[], T]) -> T:
    """Run `func`, reporting a `TrendsError` as a one-line message instead of a traceback."""
    try:
        return func()
    except ConfigError as exc:
        fail(str(exc), code=2)
    except TrendsError as exc:
        fail(str(exc))
