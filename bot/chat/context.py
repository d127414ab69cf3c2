"""Kept so that code written against the old path still imports: `Invocation` is in `bot.invocation`."""

from __future__ import annotations

from bot.invocation import Invocation as Invocation

__all__ = ["Invocation"]
