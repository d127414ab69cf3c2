"""Tolerant readers for JSON from other people's servers: a wrong type means "absent", never a crash."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bot.signals.types import Reading


def count_value(payload: dict[str, Any], key: str) -> float | None:
    """A non-negative finite number under `key`, or None (missing, null, text, bool, negative…)."""
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)  # JSON integers are unbounded: one past ~1e308 does not fit a float
    except OverflowError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number


def text_value(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value.strip() or None if isinstance(value, str) else None


@dataclass(slots=True)
class SourceAnswer:
    """A source's answer about some papers: readings for known ones, problems for garbled ones.

    A paper in neither mapping is unknown to the source.
    """

    readings: dict[int, list[Reading]] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)
