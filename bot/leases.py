"""Named leases with an expiry, in the `leases` table: who may do a job that must run in one place.

The scheduler's leader holds "scheduler"; a delivery in progress holds "delivery:<month>:<channel>" so
that two processes (a replica's chat command and the leader's scheduled job) never post the same
thread at once. Taking a lease is one conditional UPDATE (`WHERE holder = me OR expires_at < now`),
so of two contenders exactly one wins: PostgreSQL re-checks the condition on the row the first winner
wrote, SQLite serialises writers. Expiry is judged on each process's wall clock (UTC).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Lease, utcnow
from bot.db.uow import UnitOfWork
from bot.lease_info import LeaseInfo as LeaseInfo  # re-exported: its old home


def make_holder_id() -> str:
    """Names this process in the lease: host, pid and a random suffix (pids repeat across containers)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseStore:
    """Named leases in the `leases` table; each method is one short transaction."""

    def __init__(
        self, session_factory: sessionmaker[Session], clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def try_acquire(self, name: str, holder: str, seconds: float) -> dt.datetime | None:
        """Acquire or renew `name` for `holder`; the new expiry, or None if someone else holds it."""
        now = self._clock()
        expires = now + dt.timedelta(seconds=seconds)
        try:
            with UnitOfWork(self._session_factory) as uow:
                session = uow.session
                renewed = session.execute(
                    update(Lease)
                    .where(Lease.name == name, Lease.holder == holder)
                    .values(expires_at=expires)
                    .execution_options(synchronize_session=False)
                )
                if renewed.rowcount == 0:  # type: ignore[attr-defined]
                    taken = session.execute(
                        update(Lease)
                        .where(Lease.name == name, Lease.expires_at < now)
                        .values(holder=holder, expires_at=expires, acquired_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    if taken.rowcount == 0:  # type: ignore[attr-defined]
                        if session.get(Lease, name) is not None:
                            return None  # held by someone else, not expired
                        session.add(Lease(name=name, holder=holder, expires_at=expires, acquired_at=now))
                        session.flush()
                uow.commit()
        except IntegrityError:  # another replica inserted the row first
            return None
        return expires

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up (a clean shutdown), so that another replica takes over at once."""
        with UnitOfWork(self._session_factory) as uow:
            result = uow.session.execute(
                delete(Lease)
                .where(Lease.name == name, Lease.holder == holder)
                .execution_options(synchronize_session=False)
            )
            uow.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def current(self, name: str) -> LeaseInfo | None:
        with UnitOfWork(self._session_factory) as uow:
            row = uow.session.scalars(select(Lease).where(Lease.name == name)).one_or_none()
            if row is None:
                return None
            return LeaseInfo(row.name, row.holder, row.expires_at, row.acquired_at)
