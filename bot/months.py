"""Calendar months as a value type: what "October 2026" means for harvests, listings and digests.

A month is the half-open UTC interval `[start, end)`: a paper belongs to the month its `submitted_at`
falls in. Users type months as `YYYY-MM` ("2026-10"); anything else raises `ValidationError` with a
message that says what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Self
from zoneinfo import ZoneInfo

from bot.errors import ValidationError

_MONTH_TEXT = re.compile(r"([0-9]{4})-([0-9]{1,2})")
# arXiv opened in 1991; anything far past today is a typo, not a plan.
EARLIEST_YEAR = 1991
LATEST_YEAR = 2100
# Spelled out rather than strftime("%B"), which follows the process locale.
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not EARLIEST_YEAR <= self.year <= LATEST_YEAR:
            raise ValidationError(f"Year {self.year} is out of range ({EARLIEST_YEAR}–{LATEST_YEAR}).")
        if not 1 <= self.month <= 12:
            raise ValidationError(f"Month {self.month} is not between 1 and 12.")

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse `YYYY-MM` (e.g. "2026-10"); raise `ValidationError` for anything else."""
        cleaned = text.strip() if isinstance(text, str) else ""
        match = _MONTH_TEXT.fullmatch(cleaned)
        if match is None:
            shown = repr(text[:40]) if isinstance(text, str) else repr(text)
            raise ValidationError(f"{shown} is not a month: use YYYY-MM, e.g. 2026-10.")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: dt.datetime | dt.date) -> Self:
        """The month containing a date, or an aware datetime (taken in UTC)."""
        if isinstance(moment, dt.datetime):
            if moment.tzinfo is None:
                raise ValueError("naive datetime: attach a time zone")
            moment = moment.astimezone(dt.UTC)
        return cls(moment.year, moment.month)

    @classmethod
    def current(cls, now: dt.datetime | None = None, timezone: str = "UTC") -> Self:
        """The month it is at `now` (default: this instant) on the wall clocks of `timezone`.

        Papers are filed by UTC month, but "last month's digest" means the month that just ended where
        the team lives (`settings.timezone`, which the scheduler's cron also follows)."""
        moment = now or dt.datetime.now(dt.UTC)
        if moment.tzinfo is None:
            raise ValueError("naive datetime: attach a time zone")
        local = moment.astimezone(ZoneInfo(timezone))
        return cls(local.year, local.month)

    @property
    def start(self) -> dt.datetime:
        """First instant of the month, UTC (inclusive)."""
        return dt.datetime(self.year, self.month, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """First instant of the next month, UTC (exclusive).

        Computed directly rather than as `next().start`: the month after the last accepted one
        (2100-12) is out of range, but its first instant is still this month's end."""
        if self.month == 12:
            return dt.datetime(self.year + 1, 1, 1, tzinfo=dt.UTC)
        return dt.datetime(self.year, self.month + 1, 1, tzinfo=dt.UTC)

    @property
    def first_day(self) -> dt.date:
        return self.start.date()

    @property
    def last_day(self) -> dt.date:
        return self.end.date() - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        """Human form, e.g. "October 2026"."""
        return f"{_MONTH_NAMES[self.month - 1]} {self.year}"

    def next(self) -> Month:
        if self.month == 12:
            return Month(self.year + 1, 1)
        return Month(self.year, self.month + 1)

    def previous(self) -> Month:
        if self.month == 1:
            return Month(self.year - 1, 12)
        return Month(self.year, self.month - 1)

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
