"""Leader election: a named lease row with an expiry, and the SQLite single-instance lock.

Several `trends run` replicas share one PostgreSQL database; every replica answers chat commands, but
only the holder of the "scheduler" lease runs scheduled jobs (APScheduler runs every job in every
process that shares a job store). The holder renews its lease every third of its length; a replica
that dies stops renewing and another takes over once the lease has expired. Taking over is one
conditional UPDATE (`WHERE holder = me OR expires_at < now`), so of two contenders exactly one wins:
PostgreSQL re-checks the condition on the row the first winner wrote, SQLite serialises writers.

Expiry is judged on each replica's wall clock (UTC): replicas must keep their clocks in sync (NTP)
to within a small part of the lease. A leader also stops trusting its lease a renewal interval before
it expires (`LeaderElector.is_leader`), so a stalled leader stops starting jobs before anyone else
can take over.

SQLite cannot be shared by several hosts, and two processes on one file would both write; so on
SQLite `SingleInstanceLock` takes an exclusive `flock` on `<database>.run.lock` and a second
`trends run` is refused at once with a clear message. The OS drops the lock when the process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from bot.db.models import utcnow
from bot.errors import ConflictError
from bot.leases import LeaseInfo, LeaseStore, make_holder_id
from bot.scheduler import SCHEDULER_LEASE

log = logging.getLogger(__name__)

__all__ = [
    "SCHEDULER_LEASE",
    "LeaderElector",
    "LeaseInfo",
    "LeaseStore",
    "SingleInstanceLock",
    "make_holder_id",
]


class LeaderElector:
    """Keeps trying to hold the lease; calls `on_elected` / `on_deposed` when that changes."""

    def __init__(
        self,
        leases: LeaseStore,
        *,
        holder: str,
        lease_seconds: float,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        name: str = SCHEDULER_LEASE,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.leases = leases
        self.holder = holder
        self.name = name
        self.lease_seconds = lease_seconds
        self.interval = lease_seconds / 3
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._clock = clock
        self._valid_until: dt.datetime | None = None
        self.leading = False

    def is_leader(self) -> bool:
        """True while our lease has more than one renewal interval left (see the module docstring)."""
        if not self.leading or self._valid_until is None:
            return False
        return self._clock() < self._valid_until - dt.timedelta(seconds=self.interval)

    async def step(self) -> None:
        """One round: renew or try to take the lease, and react to a change of leadership."""
        try:
            expires = await asyncio.to_thread(
                self.leases.try_acquire, self.name, self.holder, self.lease_seconds
            )
        except Exception:  # the database is away: we cannot know, so we must not lead
            log.warning("lease check failed", exc_info=True, extra={"lease": self.name})
            expires = None
        if expires is not None:
            self._valid_until = expires
            if not self.leading:
                self.leading = True
                log.info(
                    "became leader", extra={"lease": self.name, "holder": self.holder, "expires": expires}
                )
                await self._on_elected()
        elif self.leading:
            self.leading = False
            self._valid_until = None
            log.warning("lost leadership", extra={"lease": self.name, "holder": self.holder})
            await self._on_deposed()

    async def run(self, stop: asyncio.Event) -> None:
        """Step every `interval` seconds until `stop` is set; then resign if leading."""
        announced_follower = False
        while not stop.is_set():
            await self.step()
            if not self.leading and not announced_follower:
                current = await asyncio.to_thread(self.leases.current, self.name)
                log.info(
                    "standing by: another replica runs the scheduled jobs",
                    extra={"lease": self.name, "leader": current.holder if current else None},
                )
                announced_follower = True
            elif self.leading:
                announced_follower = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def resign(self) -> None:
        """Give the lease up (after the jobs have stopped)."""
        was_leading, self.leading, self._valid_until = self.leading, False, None
        if was_leading:
            try:
                await asyncio.to_thread(self.leases.release, self.name, self.holder)
                log.info("released leadership", extra={"lease": self.name, "holder": self.holder})
            except Exception:  # it expires on its own
                log.warning("could not release the lease", exc_info=True, extra={"lease": self.name})


class SingleInstanceLock:
    """An exclusive lock file next to a SQLite database: one `trends run` per database file."""

    def __init__(self, database_path: Path) -> None:
        self.path = database_path.with_name(database_path.name + ".run.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        import fcntl  # POSIX only; the container image and CI are Linux

        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip()[:200]
            handle.close()
            raise ConflictError(
                f"Another `trends run` is already using this SQLite database ({owner or 'unknown process'}; "
                f"lock file {self.path}). Stop it first; to run several replicas, use PostgreSQL "
                "(TRENDS_DATABASE_URL=postgresql+psycopg://…)."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def sqlite_path(database_url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for PostgreSQL or an in-memory database)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()
