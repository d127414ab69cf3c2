"""The `trends` command line. Each module below adds its commands to the shared Typer app.

Commands that start a chat adapter (`serve`, `run`) are added by `adapters.cli`, the console script,
because the core never imports an adapter.
"""

from __future__ import annotations

import importlib

from bot.cli.app import app

# Imported for their side effect of registering commands, in the order `trends --help` shows them.
for _module in (
    "quickstart",
    "harvest",
    "bulk_import",
    "signals",
    "archive",
    "digest",
    "audiences",
    "ranking",
    "status",
    "db",
):
    importlib.import_module(f"bot.cli.{_module}")

__all__ = ["app", "main"]


def main() -> None:
    app()
