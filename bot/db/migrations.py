"""Schema management: Alembic migrations are the only way the schema is made.

Policy (also in the README): `trends db upgrade` migrates. Every other command checks the database
first: a brand-new, empty database is created on the spot (so the first `trends` command just works),
but a database at an older revision is refused with a message saying to run `trends db upgrade`
(so a deployment shared by several processes is never migrated behind the operator's back).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import DatabaseNotReadyError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

# The newest migration's revision id. Every command compares the database with it; reading it from
# the scripts would load Alembic and compile every migration (~0.2 s of CPU per command). A test
# (tests/test_migrations.py) checks it against Alembic's head: bump it with each new migration.
HEAD_REVISION = "0008"
# SQLAlchemy is imported inside the functions below: the light commands read `HEAD_REVISION` through
# bot.db.dbapi without loading it.


def script_location() -> Path:
    """Where the migration scripts are: inside the wheel, or at the repository root in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "_alembic"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "alembic"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location()))
    # The config file format interpolates "%": a URL-encoded password or path must be escaped.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def _run(engine: Engine, action: str, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine)
    # Not engine.begin(): alembic/env.py owns the transaction (SQLite must switch foreign keys off
    # outside of one before a batch migration can rebuild a table safely).
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)


def head_revision(engine: Engine) -> str:
    """The head as Alembic computes it from the scripts (slow: `HEAD_REVISION` is the cheap copy)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if head is None:  # pragma: no cover - the project always ships migrations
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _stamped_revisions(engine: Engine) -> list[str] | None:
    """The rows of `alembic_version` read with plain SQL, or None when the table does not exist."""
    from sqlalchemy import text

    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, "alembic_version"):
            return None
        return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]


def _is_known_revision(engine: Engine, revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config(engine))
    try:
        return script.get_revision(revision) is not None
    except CommandError:  # "Can't locate revision": written by a newer version of the bot
        return False


def ensure_ready(engine: Engine) -> None:
    """Create a fresh database; refuse an outdated one with instructions (see module docstring)."""
    # The common case, a current database, costs one query and no Alembic import.
    if _stamped_revisions(engine) == [HEAD_REVISION]:
        return
    current = current_revision(engine)
    head = head_revision(engine)
    if current == head:
        return
    if current is None:
        from sqlalchemy import inspect

        tables = set(inspect(engine).get_table_names())
        if tables - {"alembic_version"}:
            raise DatabaseNotReadyError(
                f"The database at {engine.url.render_as_string(hide_password=True)} has tables but no "
                "migration history; point TRENDS_DATABASE_URL at an empty database or a trends one."
            )
        try:
            upgrade(engine)
        except Exception:
            # Another process may have created the schema at the same moment: fine if it is done.
            if current_revision(engine) != head:
                raise
        return
    if not _is_known_revision(engine, current):
        raise DatabaseNotReadyError(
            f"The database is at revision {current}, which this version of the bot does not know "
            "(was it created by a newer version?). Upgrade the bot."
        )
    raise DatabaseNotReadyError(
        f"The database schema is out of date (revision {current}, this version needs {head}). "
        "Run `trends db upgrade` first."
    )
