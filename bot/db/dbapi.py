"""Reading the database through its driver alone, for the commands that must start fast.

`trends topics list`, `trends issues` and `trends status` read a few rows and exit; SQLAlchemy and the
mapped models would cost them ~0.2 s of CPU to load. `read_if_current` opens the database with
`sqlite3` (read-only) or psycopg, checks that the schema is the one this version of the bot expects,
and runs a query of `bot.db.reader` on it.

It answers only what it can answer exactly like the full path. It returns None, and the caller takes
the full path (SQLAlchemy, migrations, seeding, the friendly errors), when:
- the URL is not a plain SQLite file or a psycopg PostgreSQL URL (memory databases, query strings);
- the database does not exist yet, or its schema is not at `HEAD_REVISION`;
- the query itself says so (an audience not seeded yet, an unknown audience name);
- the driver raises (locked, unreachable, a table missing): the full path reports it properly.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from bot.db.migrations import HEAD_REVISION
from bot.db.reader import POSTGRESQL, SQLITE, SqlReader, schema_revisions

log = logging.getLogger(__name__)

T = TypeVar("T")

# `:name` parameters (not `::type` casts) become psycopg's `%(name)s`.
_NAMED_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class DbApiReader:
    """A `SqlReader` on one DB-API connection (autocommit, read-only where the driver allows it)."""

    def __init__(self, connection: Any, dialect: str, errors: tuple[type[Exception], ...]) -> None:
        self._connection = connection
        self._dialect = dialect
        self.errors = errors  # what the driver raises, for the caller to fall back on

    @property
    def dialect(self) -> str:
        return self._dialect

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if self._dialect == POSTGRESQL:
            sql = _NAMED_PARAMETER.sub(r"%(\1)s", sql)
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, dict(params or {}))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///path` URL, or None for what only SQLAlchemy reads the same way."""
    scheme, separator, rest = url.partition("://")
    if scheme != "sqlite" or not separator or not rest.startswith("/"):
        return None
    path = rest[1:]
    # Memory databases, URL options (`?mode=…`) and escapes: leave them to SQLAlchemy's parser.
    if not path or path == ":memory:" or any(ch in path for ch in "?%#"):
        return None
    return Path(path)


def open_reader(url: str) -> DbApiReader | None:
    """A read-only reader for `url`, or None when only the full path can open it (module docstring)."""
    path = sqlite_path(url)
    if path is not None:
        if not path.is_file():
            return None  # the full path creates and migrates a brand-new database
        try:
            # mode=ro: a light command never writes, never creates a file. Same busy wait as the engine.
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error:
            return None
        return DbApiReader(connection, SQLITE, (sqlite3.Error,))
    scheme, separator, rest = url.partition("://")
    if scheme != "postgresql+psycopg" or not separator:
        return None
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg ships with the bot
        return None
    try:
        server = psycopg.connect(f"postgresql://{rest}", autocommit=True, connect_timeout=10)
    except (psycopg.Error, ValueError):
        return None
    return DbApiReader(server, POSTGRESQL, (psycopg.Error,))


def read_if_current(url: str, query: Callable[[SqlReader], T | None]) -> T | None:
    """`query`'s answer read through the driver alone, or None: then the caller takes the full path."""
    reader = open_reader(url)
    if reader is None:
        return None
    with reader:
        try:
            if schema_revisions(reader) != [HEAD_REVISION]:
                return None  # new, outdated or newer: the full path migrates or explains
            return query(reader)
        except reader.errors as exc:
            log.debug("quick read failed (%s); taking the full path", type(exc).__name__)
            return None
