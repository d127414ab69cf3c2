"""Read-only SQL that runs the same on a SQLAlchemy session and on a bare database driver.

`SqlReader` is the port: one SELECT with `:name` parameters in, its rows out as tuples of the driver's
own values. Two adapters implement it:

- `bot.db.session_reader.SessionReader`, over the session of a unit of work: what the services use;
- `bot.db.dbapi.DbApiReader`, straight on `sqlite3` or psycopg: what the light commands (`trends
  topics list`, `trends issues`, `trends status`) use, because importing SQLAlchemy and mapping the
  models costs ~0.2 s of CPU, more than half of such a command's start (bench/cli_startup.py).

Both hand back what the driver returns, untyped: SQLite gives ISO strings for dates and times, 0/1
for booleans and JSON as text, PostgreSQL gives native values. The `as_*` helpers read either, so a
query written once (`bot.digest.topic_list`, `bot.archive.issue_list`, `bot.scheduler.status`) gives
the same answer through both readers (tests/test_quick_reads.py).

Nothing here imports a third-party library: keep it that way, the light commands load this module.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Protocol

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


class SqlReader(Protocol):
    """Runs read-only SQL; parameters are written `:name` whatever the driver."""

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`: the few queries that differ (catalog lookups) branch on it."""
        ...

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row of `sql`, in order."""
        ...


def scalar(reader: SqlReader, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    """The first column of the first row, or None when there is no row."""
    found = reader.rows(sql, params)
    return found[0][0] if found else None


def table_exists(reader: SqlReader, name: str) -> bool:
    if reader.dialect == SQLITE:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"
    else:
        sql = (
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = :name"
        )
    return bool(reader.rows(sql, {"name": name}))


def schema_revisions(reader: SqlReader) -> list[str] | None:
    """The rows of Alembic's `alembic_version`, or None when the database has no such table."""
    if not table_exists(reader, "alembic_version"):
        return None
    return [str(row[0]) for row in reader.rows("SELECT version_num FROM alembic_version")]


def as_datetime(value: Any) -> dt.datetime | None:
    """A stored UTC moment as an aware datetime (SQLite keeps `YYYY-MM-DD HH:MM:SS.ffffff`, no zone)."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def as_moment(value: Any) -> dt.datetime:
    """`as_datetime` for a NOT NULL column."""
    moment = as_datetime(value)
    if moment is None:
        raise ValueError("a NOT NULL moment read as NULL")
    return moment


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_bool(value: Any) -> bool:
    return bool(value)


def as_str_list(value: Any) -> tuple[str, ...]:
    """A stored JSON list of strings (text on SQLite, decoded already by psycopg)."""
    if value is None:
        return ()
    decoded = json.loads(value) if isinstance(value, str | bytes) else value
    return tuple(str(item) for item in decoded or ())
