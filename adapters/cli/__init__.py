"""The `trends` command line (the console script, pyproject's `trends = "adapters.cli:main"`).

The command line is an edge like Slack and Discord: each module below adds its commands to the shared
Typer app (`adapters.cli.app`) and calls the core's services. Importing this package registers every
command, in the order `trends --help` shows them; the modules import their services inside the command
bodies, so loading the CLI stays cheap (tests/test_cli_startup.py, bench/cli_startup.py).
"""

from __future__ import annotations

import importlib

from adapters.cli.app import app

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
    "serve",
):
    importlib.import_module(f"adapters.cli.{_module}")

__all__ = ["app", "main"]


def main() -> None:
    app()
