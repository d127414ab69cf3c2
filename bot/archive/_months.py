""" "YYYY-MM" month keys for the archive, on top of the shared `bot.months.Month` type.

The archive passes months around as plain keys (they are what the digests table stores and what
views carry); these helpers convert through `Month` so there is one definition of a month (UTC).
"""

from __future__ import annotations

import datetime as dt
import re

from bot.errors import ValidationError
from bot.months import Month

_LOOSE_MONTH = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})\s*$")


def parse_month(text: str) -> str | None:
    """`"2026-10"`, `"2026-1"` or `"2026/10"` → `"2026-10"`; anything else → None (never raises)."""
    match = _LOOSE_MONTH.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    try:
        return str(Month(int(match.group(1)), int(match.group(2))))
    except ValidationError:
        return None


def month_of(moment: dt.datetime) -> str:
    return str(Month.of(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)))


def shift_month(key: str, months: int) -> str:
    index = int(key[:4]) * 12 + int(key[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(key: str) -> dt.datetime:
    return dt.datetime(int(key[:4]), int(key[5:7]), 1, tzinfo=dt.UTC)


def month_range(first: str, last: str) -> list[str]:
    """Every month key from `first` to `last`, both included."""
    keys = [first]
    while keys[-1] < last:
        keys.append(shift_month(keys[-1], 1))
    return keys


def month_label(key: str) -> str:
    """`"2026-10"` → `"October 2026"`."""
    try:
        return Month.parse(key).label
    except ValidationError:
        return key
