"""Alembic environment: runs migrations on the bot's engine, online only.

Two rules every migration run obeys here:
- the dialect-specific full-text index (FTS5 tables on SQLite, `search_vector` on PostgreSQL) is not
  part of the models, so `alembic check` is told to ignore it;
- after migrating SQLite, the FTS sync triggers are re-created, because batch migrations rebuild
  tables and drop their triggers silently (see bot/db/fts.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from alembic import context
from bot.db import fts
from bot.db.engine import make_engine
from bot.db.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "table" and name is not None and name.startswith(fts.FTS_TABLE):
        return False
    if type_ == "column" and name == "search_vector":
        return False
    return not (type_ == "index" and name == "ix_papers_search_vector")


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        fts.ensure_sqlite_triggers(connection)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.settings import load_settings

        url = load_settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            run_with(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported: run `trends db upgrade`.")
run_migrations_online()
