"""`SessionReader`: the `bot.db.reader.SqlReader` port over the session of a unit of work.

The services run the read-only queries the light commands share (`bot.digest.topic_list`,
`bot.archive.issue_list`, `bot.scheduler.status`) through it, inside their own transaction, so both
paths answer from one query. `text()` with no declared column types hands back the driver's own values,
as `bot.db.dbapi.DbApiReader` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


class SessionReader:
    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._session.execute(text(sql), dict(params or {}))]
