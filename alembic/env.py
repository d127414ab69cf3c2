"""Alembic environment: runs migrations on the bot's engine, online only.

Two rules every migration run obeys here:
- the dialect-specific full-text index (FTS5 tables on SQLite, `search_vector` on PostgreSQL) is not
  part of the models, so `alembic check` is told to ignore it;
- after migrating SQLite, the FTS sync triggers are re-created, because batch migrations rebuild
  tables and drop their triggers silently (see bot/db/fts.py);
- SQLite migrations run with foreign keys off: a batch migration drops and re-creates a table, and with
  foreign keys on, that DROP cascades into (or is refused by) every table referencing it, e.g. a batch
  change to `papers` would silently delete all votes. Integrity is checked before committing instead.

A connection passed in `config.attributes["connection"]` must not be inside a transaction: this module
begins and commits it (SQLite cannot switch foreign keys inside a transaction).
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


def set_sqlite_foreign_keys(connection: Connection, enabled: bool) -> None:
    """Switch SQLite's foreign-key enforcement; refuse to continue if SQLite ignored the switch."""
    if connection.in_transaction():
        connection.commit()
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    actual = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    connection.commit()
    if bool(actual) != enabled:
        # SQLite ignores the pragma inside a transaction; never migrate (or pool a connection) in
        # the wrong mode.
        connection.invalidate()
        raise RuntimeError("could not switch SQLite foreign keys: the connection is inside a transaction")


def check_sqlite_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise RuntimeError(f"migration left rows with dangling foreign keys in: {', '.join(tables)}")


def migrate(connection: Connection) -> None:
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
        if connection.dialect.name == "sqlite":
            check_sqlite_foreign_keys(connection)
    if connection.in_transaction():
        connection.commit()


def run_with(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        migrate(connection)
        return
    set_sqlite_foreign_keys(connection, enabled=False)
    try:
        migrate(connection)
    except BaseException:
        if connection.in_transaction():
            connection.rollback()
        raise
    finally:
        set_sqlite_foreign_keys(connection, enabled=True)


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
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported: run `trends db upgrade`.")
run_migrations_online()
