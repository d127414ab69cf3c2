"""The `trends` console script: the core CLI (`bot.cli`) plus the commands that start chat adapters.

`bot/` never imports `adapters/`, so the commands that need a chat platform (`trends serve …`,
`trends run`) are registered here, on top of the core's Typer app.
"""

from __future__ import annotations

import adapters.commands  # noqa: F401  (registers `serve` and `run` on the shared app)
from bot.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
