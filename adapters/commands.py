"""Registers the adapter commands (`serve`, `run`) on the core CLI app."""

from __future__ import annotations

from adapters import run, serve  # noqa: F401  (register `trends run` and `trends serve …`)
