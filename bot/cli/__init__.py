"""The `trends` command line. Each module below adds its commands to the shared Typer app."""

from __future__ import annotations

from bot.cli import db  # noqa: F401  (registers commands)
from bot.cli.app import app


def main() -> None:
    app()
