"""Leader election: one lease holder at a time, renewal, takeover after expiry, the SQLite lock."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ConflictError
from bot.scheduler.leases import LeaderElector, LeaseStore, SingleInstanceLock, sqlite_path

T0 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


@dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_one_holder_renewal_and_takeover_after_expiry(session_factory: sessionmaker[Session]) -> None:
    clock = Clock()
    leases = LeaseStore(session_factory, clock=clock)
    assert leases.try_acquire("scheduler", "a", 30) == T0 + dt.timedelta(seconds=30)
    assert leases.try_acquire("scheduler", "b", 30) is None  # held
    clock.advance(10)
    assert leases.try_acquire("scheduler", "a", 30) == T0 + dt.timedelta(seconds=40)  # renewed
    clock.advance(25)
    assert leases.try_acquire("scheduler", "b", 30) is None  # a renewed: still valid until T0+40
    clock.advance(6)  # a died: its lease ran out
    assert leases.try_acquire("scheduler", "b", 30) is not None
    info = leases.current("scheduler")
    assert info is not None
    assert info.holder == "b"
    assert info.acquired_at == clock.now
    assert leases.try_acquire("scheduler", "a", 30) is None  # the old leader cannot come back
    assert leases.release("scheduler", "a") is False  # nor release someone else's lease
    assert leases.release("scheduler", "b") is True
    assert leases.current("scheduler") is None
    assert leases.try_acquire("scheduler", "a", 30) is not None  # released: free at once


def test_hostile_holder_names_are_just_data(session_factory: sessionmaker[Session]) -> None:
    leases = LeaseStore(session_factory)
    holder = "x'; DROP TABLE leases; -- 🦄"
    assert leases.try_acquire("scheduler", holder, 5) is not None
    info = leases.current("scheduler")
    assert info is not None
    assert info.holder == holder


async def test_elector_transitions(session_factory: sessionmaker[Session]) -> None:
    clock = Clock()
    events: list[str] = []

    def elector(holder: str) -> LeaderElector:
        async def elected() -> None:
            events.append(f"{holder} elected")

        async def deposed() -> None:
            events.append(f"{holder} deposed")

        return LeaderElector(
            LeaseStore(session_factory, clock=clock),
            holder=holder,
            lease_seconds=3,
            on_elected=elected,
            on_deposed=deposed,
            clock=clock,
        )

    a, b = elector("a"), elector("b")
    await a.step()
    await b.step()
    assert (a.is_leader(), b.is_leader()) == (True, False)
    clock.advance(2.5)  # a stalled past its renewal margin: it stops trusting its lease
    assert not a.is_leader()
    clock.advance(1)  # and then it expired: b takes over
    await b.step()
    await a.step()
    assert (a.is_leader(), b.is_leader()) == (False, True)
    assert events == ["a elected", "b elected", "a deposed"]
    await b.resign()
    await a.step()
    assert a.is_leader()


async def test_elector_run_stops_and_resigns(session_factory: sessionmaker[Session]) -> None:
    async def nothing() -> None:
        return None

    leases = LeaseStore(session_factory)
    elector = LeaderElector(leases, holder="a", lease_seconds=1, on_elected=nothing, on_deposed=nothing)
    stop = asyncio.Event()
    task = asyncio.create_task(elector.run(stop))
    while not elector.leading:
        await asyncio.sleep(0.01)
    stop.set()
    await task
    await elector.resign()
    assert leases.current("scheduler") is None


def test_sqlite_single_instance_lock(tmp_path: Path) -> None:
    path = sqlite_path(f"sqlite:///{tmp_path / 'trends.db'}")
    assert path is not None
    with SingleInstanceLock(path):
        with pytest.raises(ConflictError, match="already using this SQLite database") as caught:
            SingleInstanceLock(path).acquire()
        assert "PostgreSQL" in str(caught.value)
    with SingleInstanceLock(path):  # released on exit
        pass
    assert sqlite_path("postgresql+psycopg://u@h/db") is None
    assert sqlite_path("sqlite:///:memory:") is None
