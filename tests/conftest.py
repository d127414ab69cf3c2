"""Shared fixtures: databases on SQLite and (when TRENDS_TEST_DATABASE_URL is set) PostgreSQL.

`db_url` is parametrised over both engines, so every storage test runs on each. PostgreSQL tests skip
with a reason when no URL is given. Migrating is done once per session: SQLite copies a migrated
template file per test; PostgreSQL uses one throwaway database per test session (so parallel runs
never see each other's rows), emptied with TRUNCATE before each test — creating and dropping a
database per test would cost a forced checkpoint each time. Tests that need a database of their own
(migrations) call `pg_databases.create()`.
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
from tests.bench_data import BENCH_ENV

PG_URL_ENV = "TRENDS_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's trends.toml or TRENDS_* variables by accident."""
    for name in list(os.environ):
        if name.startswith("TRENDS_") and name not in (PG_URL_ENV, BENCH_ENV):
            monkeypatch.delenv(name, raising=False)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "DISCORD_TOKEN",
        "DISCORD_GUILD_IDS",
        "DISCORD_API_URL",
        "DISCORD_GATEWAY_URL",
        "SEMANTIC_SCHOLAR_API_KEY",
        "GITHUB_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRENDS_CONFIG", str(tmp_path / "absent-trends.toml"))
    # A `/healthz` a test starts listens on loopback only, and only on a port the test chooses.
    monkeypatch.setenv("TRENDS_HEALTH_HOST", "127.0.0.1")
    monkeypatch.setenv("TRENDS_HEALTH_PORT", "0")


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PostgresDatabases | None
) -> Iterator[Engine]:
    """A brand-new database with no tables at all, on each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    elif pg_databases is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")
    else:
        url = pg_databases.create()
    engine = make_engine(url)
    yield engine
    engine.dispose()


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
def pg_shared(pg_databases: PostgresDatabases | None) -> Iterator[tuple[str, Engine] | None]:
    """One migrated PostgreSQL database for the session, and an engine to empty it between tests."""
    if pg_databases is None:
        yield None
        return
    url = pg_databases.create()
    engine = make_engine(url)
    migrations.upgrade(engine)
    yield url, engine
    engine.dispose()


_SCHEMA_TABLES: set[str] = set()


def _truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = set(
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
        )
        if not _SCHEMA_TABLES:
            _SCHEMA_TABLES.update(tables)
        elif not tables >= _SCHEMA_TABLES:
            missing = ", ".join(sorted(_SCHEMA_TABLES - tables))
            raise RuntimeError(
                f"An earlier test dropped shared tables ({missing}); tests must not change the schema "
                "of the shared PostgreSQL database (use pg_databases.create() for a database of your own)."
            )
        names = ", ".join(f'"{name}"' for name in sorted(tables))
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


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
    shared = request.getfixturevalue("pg_shared")
    url, engine = shared
    _truncate_all(engine)
    return str(url)


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
