"""The `trends` command line. Each module below adds its commands to the shared Typer app."""

from __future__ import annotations

from bot.cli import quickstart  # noqa: F401  (registers commands; first, so it heads --help)
from bot.cli import db  # noqa: F401
from bot.cli import digest  # noqa: F401
from bot.cli import ranking  # noqa: F401
from bot.cli import harvest  # noqa: F401
from bot.cli import signals  # noqa: F401
from bot.cli import archive  # noqa: F401
from bot.cli import status  # noqa: F401
from bot.cli.app import app


def main() -> None:
    app()
