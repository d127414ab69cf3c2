"""A lease as read (`LeaseInfo`), and reading one with plain SQL (`bot.db.reader`).

Apart from `bot.leases` (the store that takes and renews leases, on SQLAlchemy) so that `trends status`
can show the leader when it answers through the driver alone (`bot.db.dbapi`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db.reader import SqlReader, as_moment


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    name: str
    holder: str
    expires_at: dt.datetime
    acquired_at: dt.datetime


def read_lease(reader: SqlReader, name: str) -> LeaseInfo | None:
    found = reader.rows(
        "SELECT name, holder, expires_at, acquired_at FROM leases WHERE name = :name", {"name": name}
    )
    if not found:
        return None
    lease_name, holder, expires_at, acquired_at = found[0]
    return LeaseInfo(str(lease_name), str(holder), as_moment(expires_at), as_moment(acquired_at))
