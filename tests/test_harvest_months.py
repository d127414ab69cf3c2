"""`bot.months.Month`: parsing user text, UTC bounds, neighbours and labels."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import ValidationError
from bot.months import Month


def test_parse_and_bounds() -> None:
    month = Month.parse(" 2026-10 ")
    assert (month.year, month.month) == (2026, 10)
    assert month.start == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert month.end == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert (month.first_day, month.last_day) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert month.label == "October 2026"
    assert str(month) == "2026-10"
    assert Month.parse("2026-2") == Month(2026, 2)


def test_neighbours_cross_years() -> None:
    assert Month.parse("2026-12").next() == Month(2027, 1)
    assert Month.parse("2026-01").previous() == Month(2025, 12)
    assert Month.parse("2024-02").last_day == dt.date(2024, 2, 29)
    assert Month(2026, 1) < Month(2026, 2) < Month(2027, 1)


def test_of_takes_the_utc_month() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert Month.of(dt.datetime(2026, 11, 1, 8, 0, tzinfo=tokyo)) == Month(2026, 10)
    assert Month.of(dt.date(2026, 3, 31)) == Month(2026, 3)
    assert Month.parse("2026-10").contains(dt.datetime(2026, 10, 31, 23, 59, tzinfo=dt.UTC))
    assert not Month.parse("2026-10").contains(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026",
        "2026-13",
        "2026-00",
        "10-2026",
        "2026/10",
        "2026-10-01",
        "October",
        "0000-01",
        "'; DROP TABLE digests; --",
        "２０２６-１０",
        "2026-10\n",
        "9" * 5000,
        "🤖",
    ],
)
def test_invalid_months_raise_a_clear_error(text: str) -> None:
    if text == "2026-10\n":  # surrounding whitespace is forgiven
        assert Month.parse(text) == Month(2026, 10)
        return
    with pytest.raises(ValidationError) as caught:
        Month.parse(text)
    assert len(str(caught.value)) < 200
    assert "2026-10" in str(caught.value) or "between" in str(caught.value) or "range" in str(caught.value)
