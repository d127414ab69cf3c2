"""`paper_signals` storage: a row per change (never per day), latest values, growth, pruning, flags."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import PaperSignal
from bot.signals.store import known_venues, latest_signals, latest_values, prune_readings, record_readings
from bot.signals.types import VENUE_KNOWN, Reading
from tests.fakes.signal_servers import insert_papers

SUBMITTED = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def count_rows(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(PaperSignal)) or 0


def record(session_factory: sessionmaker[Session], readings: list[Reading], at: dt.datetime) -> set[int]:
    with session_factory() as session:
        written = record_readings(session, readings, at)
        session.commit()
    return written


def test_a_value_is_written_only_when_it_changes(session_factory: sessionmaker[Session]) -> None:
    ids = insert_papers(session_factory, ["2410.00001", "2410.00002"], submitted_at=SUBMITTED)
    a, b = ids["2410.00001"], ids["2410.00002"]
    morning = dt.datetime(2026, 10, 28, 8, 0, tzinfo=dt.UTC)
    first = [Reading(a, "semantic_scholar", "citations", 5), Reading(b, "huggingface", "upvotes", 2)]
    assert record(session_factory, first, morning) == {a, b}
    # Later the same day: a unchanged (skipped), b changed (written).
    again = [Reading(a, "semantic_scholar", "citations", 5), Reading(b, "huggingface", "upvotes", 3)]
    assert record(session_factory, again, morning + dt.timedelta(hours=6)) == {b}
    assert count_rows(session_factory) == 3
    # Days later, still unchanged: no new row, the reading is dated by its last sighting instead.
    for days in (1, 2, 9):
        assert (
            record(session_factory, [Reading(a, "semantic_scholar", "citations", 5)], morning + days * DAY)
            == set()
        )
    assert count_rows(session_factory) == 3
    assert sightings(session_factory, a) == [(5.0, morning + 9 * DAY)]
    # A late report of an older observation never moves a sighting back.
    record(session_factory, [Reading(a, "semantic_scholar", "citations", 5)], morning + DAY)
    assert sightings(session_factory, a) == [(5.0, morning + 9 * DAY)]
    # A change, however late, is a new row.
    assert record(session_factory, [Reading(a, "semantic_scholar", "citations", 6)], morning + 10 * DAY) == {
        a
    }
    assert sightings(session_factory, a) == [(5.0, morning + 9 * DAY), (6.0, morning + 10 * DAY)]


def sightings(session_factory: sessionmaker[Session], paper_id: int) -> list[tuple[float, dt.datetime]]:
    with session_factory() as session:
        rows = session.execute(
            select(PaperSignal.value, PaperSignal.observed_at)
            .where(PaperSignal.paper_id == paper_id)
            .order_by(PaperSignal.observed_at)
        ).all()
    return [(value, at) for value, at in rows]


def test_growth_falls_while_a_value_stands_still(session_factory: sessionmaker[Session]) -> None:
    paper = insert_papers(session_factory, ["2410.00004"], submitted_at=SUBMITTED)["2410.00004"]
    t0 = dt.datetime(2026, 10, 5, 12, 0, tzinfo=dt.UTC)

    def growth_after(value: float, at: dt.datetime) -> float:
        record(session_factory, [Reading(paper, "huggingface", "upvotes", value)], at)
        with session_factory() as session:
            return latest_signals(session, [paper])[paper]["huggingface.upvotes.growth"]

    growth_after(10, t0)
    assert growth_after(30, t0 + DAY) == pytest.approx(20.0)  # +20 in a day
    # Nine more days at 30: +20 over the ten days since 10 was last seen.
    assert growth_after(30, t0 + 10 * DAY) == pytest.approx(2.0)
    assert growth_after(35, t0 + 11 * DAY) == pytest.approx(5.0)  # since 30 was last seen


def test_equal_neighbours_from_daily_rows_are_read_as_one_value(
    session_factory: sessionmaker[Session],
) -> None:
    """Tables filled when every day got a row: growth still uses the previous *different* value."""
    paper = insert_papers(session_factory, ["2410.00005"], submitted_at=SUBMITTED)["2410.00005"]
    t0 = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
    daily = [(0, 4.0), (1, 8.0), (2, 8.0), (3, 8.0), (4, 12.0), (5, 12.0)]
    with session_factory() as session:
        session.add_all(
            PaperSignal(paper_id=paper, source="github", name="stars", value=v, observed_at=t0 + d * DAY)
            for d, v in daily
        )
        session.commit()
        signals = latest_signals(session, [paper])[paper]
    assert signals["github.stars"] == 12
    assert signals["github.stars.growth"] == pytest.approx(4 / 2)  # 8 last seen on day 3, 12 on day 5


def test_prune_keeps_the_newest_reading_of_every_signal(session_factory: sessionmaker[Session]) -> None:
    ids = insert_papers(session_factory, ["2410.00006", "2410.00007"], submitted_at=SUBMITTED)
    old, fresh = ids["2410.00006"], ids["2410.00007"]
    t0 = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
    for day, value in ((0, 1.0), (5, 2.0), (30, 3.0)):
        record(session_factory, [Reading(fresh, "github", "stars", value)], t0 + day * DAY)
    for day, value in ((0, 7.0), (1, 8.0)):
        record(session_factory, [Reading(old, "github", "stars", value)], t0 + day * DAY)
    with session_factory() as session:
        assert prune_readings(session, t0 + 10 * DAY) == 3
        session.commit()
    assert [v for v, _at in sightings(session_factory, fresh)] == [3.0]
    assert [v for v, _at in sightings(session_factory, old)] == [8.0]
    with session_factory() as session:
        signals = latest_signals(session, [old, fresh])
        with pytest.raises(ValueError, match="time zone"):
            prune_readings(session, dt.datetime(2026, 10, 1))
    assert signals[old]["github.stars"] == 8.0


def test_flags_stay_out_of_the_momentum_values(session_factory: sessionmaker[Session]) -> None:
    paper = insert_papers(session_factory, ["2410.00008"], submitted_at=SUBMITTED)["2410.00008"]
    at = SUBMITTED + 2 * DAY
    record(
        session_factory,
        [
            Reading(paper, "semantic_scholar", "citations", 4),
            Reading(paper, "semantic_scholar", VENUE_KNOWN, 1.0),
        ],
        at,
    )
    with session_factory() as session:
        assert set(latest_signals(session, [paper])[paper]) == {
            "semantic_scholar.citations",
            "semantic_scholar.citations.growth",
        }
        assert known_venues(session, [paper, 424242]) == {paper}
        assert known_venues(session, []) == set()
        assert latest_values(session, [paper], "semantic_scholar", "citations") == {paper: 4.0}


def test_a_value_that_returns_to_an_earlier_one_is_still_a_change(
    session_factory: sessionmaker[Session],
) -> None:
    paper = insert_papers(session_factory, ["2410.00003"], submitted_at=SUBMITTED)["2410.00003"]
    at = dt.datetime(2026, 10, 28, 1, 0, tzinfo=dt.UTC)
    for hour, value in enumerate([10.0, 12.0, 10.0]):
        record(session_factory, [Reading(paper, "github", "stars", value)], at + dt.timedelta(hours=hour))
    assert count_rows(session_factory) == 3
    with session_factory() as session:
        assert latest_signals(session, [paper])[paper]["github.stars"] == 10.0


def test_naive_timestamps_are_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, pytest.raises(ValueError, match="time zone"):
        record_readings(session, [Reading(1, "github", "stars", 1)], dt.datetime(2026, 10, 28))


def test_latest_values_and_growth_per_day(session_factory: sessionmaker[Session]) -> None:
    ids = insert_papers(
        session_factory, ["2410.00010", "2410.00011", "2410.00012", "2410.00013"], submitted_at=SUBMITTED
    )
    two_readings, one_reading, same_day, silent = (ids[k] for k in sorted(ids))
    t0 = dt.datetime(2026, 10, 11, 12, 0, tzinfo=dt.UTC)
    record(
        session_factory,
        [
            Reading(two_readings, "semantic_scholar", "citations", 4),
            Reading(two_readings, "huggingface", "upvotes", 30),
            Reading(same_day, "github", "stars", 100),
        ],
        t0,
    )
    record(
        session_factory,
        [
            Reading(two_readings, "semantic_scholar", "citations", 24),  # +20 in 10 days
            Reading(two_readings, "semantic_scholar", "influential_citations", 2),
        ],
        t0 + 10 * DAY,
    )
    record(
        session_factory,
        [Reading(one_reading, "huggingface", "upvotes", 50)],
        SUBMITTED + 5 * DAY + dt.timedelta(seconds=1),
    )
    record(session_factory, [Reading(same_day, "github", "stars", 106)], t0 + dt.timedelta(hours=3))

    with session_factory() as session:
        signals = latest_signals(session, [two_readings, one_reading, same_day, silent, 987654])

    assert silent not in signals
    assert 987654 not in signals
    first = signals[two_readings]
    assert first["semantic_scholar.citations"] == 24
    assert first["semantic_scholar.citations.growth"] == pytest.approx(2.0)
    assert first["huggingface.upvotes"] == 30
    # Only one reading: growth since submission (10 days before t0: 30 upvotes / 10 days).
    assert first["huggingface.upvotes.growth"] == pytest.approx(3.0)
    # Submitted 2026-10-01 12:00 (+10 s for the 1st paper's offset); read 20 days later.
    assert first["semantic_scholar.influential_citations.growth"] == pytest.approx(2 / 20, rel=1e-4)
    assert signals[one_reading] == {
        "huggingface.upvotes": 50,
        "huggingface.upvotes.growth": pytest.approx(10.0, rel=1e-4),
    }
    # Two readings three hours apart count as a day: +6, not +48 a day.
    assert signals[same_day]["github.stars"] == 106
    assert signals[same_day]["github.stars.growth"] == pytest.approx(6.0)


def test_latest_signals_of_nothing_is_empty(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        assert latest_signals(session, []) == {}


def test_latest_signals_takes_a_month_of_ids_in_one_go(session_factory: sessionmaker[Session]) -> None:
    """40k ids exceed SQLite's and PostgreSQL's bound-parameter limits; the query must still run."""
    paper = insert_papers(session_factory, ["2410.00020"], submitted_at=SUBMITTED)["2410.00020"]
    record(session_factory, [Reading(paper, "github", "stars", 7)], SUBMITTED + DAY)
    with session_factory() as session:
        signals = latest_signals(session, [*range(100_000, 140_000), paper])
    assert signals == {paper: {"github.stars": 7.0, "github.stars.growth": pytest.approx(7.0)}}
