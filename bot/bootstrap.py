"""Wiring: the one place that builds engines, sessions, clients and services from settings.

Nothing in the core creates a connection or a client at import time; the CLI, the chat adapters and
the scheduler each call `build()` once and pass what they need down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db.engine import make_engine, make_session_factory
from bot.db.uow import UnitOfWork
from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.harvest.source import ArxivSource


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session] = field(repr=False)
    _arxiv: ArxivSource | None = field(default=None, init=False, repr=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def arxiv_source(self) -> ArxivSource:
        """The process's one arXiv client: its 3-second spacing holds per client, so it is shared."""
        if self._arxiv is None:
            from bot.harvest.source import ArxivSource

            self._arxiv = ArxivSource.from_settings(self.settings)
        return self._arxiv

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, *, check_schema: bool = True) -> Container:
    """Build the container; by default make sure the schema is current (see bot.db.migrations)."""
    from bot.db import migrations  # alembic: loaded by the commands that open the database

    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    if check_schema:
        try:
            migrations.ensure_ready(engine)
        except Exception:
            engine.dispose()
            raise
    return Container(settings=settings, engine=engine, session_factory=make_session_factory(engine))
