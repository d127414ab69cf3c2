"""Shared fixtures: databases on SQLite and (when TRENDS_TEST_DATABASE_URL is set) PostgreSQL.

`db_url` is parametrised over both engines, so every storage test runs on each. PostgreSQL tests skip
with a reason when no URL is given; each PostgreSQL test run gets its own throwaway database so that
parallel runs never see each other's rows. Migrating is done once per session into a template
(SQLite: a file copied per test; PostgreSQL: `CREATE DATABASE … TEMPLATE`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.db import migrations
from bot.db.engine import make_engine, make_session_factory
from bot.db.uow import UnitOfWork

PG_URL_ENV = "TRENDS_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's trends.toml or TRENDS_* variables by accident."""
    for name in list(os.environ):
        if name.startswith("TRENDS_") and name != PG_URL_ENV:
            monkeypatch.delenv(name, raising=False)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRENDS_CONFIG", str(tmp_path / "absent-trends.toml"))


def postgres_admin_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


class PostgresDatabases:
    """Creates and drops throwaway databases on the test server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self._admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"trends_test_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {template}" if template else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases | None]:
    url = postgres_admin_url()
    if url is None:
        yield None
        return
    databases = PostgresDatabases(url)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_databases: PostgresDatabases | None) -> str | None:
    if pg_databases is None:
        return None
    url = pg_databases.create()
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    return make_url(url).database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_databases: PostgresDatabases | None,
) -> str:
    """A migrated, empty database URL on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "trends.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    if pg_databases is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    template = request.getfixturevalue("pg_template")
    return pg_databases.create(template=template)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database URL (for tests that are about SQLite only)."""
    path = tmp_path / "trends.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    built = make_engine(db_url)
    yield built
    built.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> UnitOfWork:
    """A fresh (not yet entered) unit of work on the parametrised database."""
    return UnitOfWork(session_factory)
