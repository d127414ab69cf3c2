"""Loading the `trends` CLI stays cheap: no heavy library is imported until a command needs it.

The light commands (`topics list`, `issues`, `status`) also run without SQLAlchemy (they read through
the database driver, `bot.db.dbapi`), Alembic (the schema check reads `alembic_version` and compares it
with `HEAD_REVISION`) or APScheduler (the settings check cron without it). Their CPU time is measured
by bench/cli_startup.py, not here.

`trends --help` (and every command) imports `adapters.cli`, which registers all commands; the command
modules import their services inside the command bodies. Each check runs in a fresh interpreter, so
what other tests imported does not count.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HEAVY = ("sklearn", "scipy", "matplotlib", "slack_bolt", "discord", "apscheduler")


def _heavy_after(statement: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has loaded after running `statement`."""
    code = f"import json, sys; {statement}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_loading_the_cli_imports_no_heavy_library() -> None:
    assert _heavy_after("import adapters.cli") == []
    # The check sees a heavy import: the machinery behind `trends run` does load the scheduler.
    assert "apscheduler" in _heavy_after("import adapters.run")


def test_the_topics_and_types_of_the_ranking_load_without_its_numerics() -> None:
    # The first `trends topics list` seeds DEFAULT_TOPICS; the scoring code loads on first use.
    assert _heavy_after("from bot.ranking import DEFAULT_TOPICS, TopicSpec") == []
    assert "scipy" in _heavy_after("from bot.ranking import rank_month")


LIGHT_COMMANDS = (["topics", "list"], ["issues"], ["status"])
NOT_FOR_LIGHT_COMMANDS = (*HEAVY, "alembic", "sklearn", "sqlalchemy")


def _heavy_after_command(args: list[str], database: Path) -> list[str]:
    code = (
        "import json, sys\n"
        f"sys.argv = ['trends', *{args!r}]\n"
        "from adapters.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print('LOADED', json.dumps([m for m in {NOT_FOR_LIGHT_COMMANDS!r} if m in sys.modules]))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRENDS_")}
    env["TRENDS_DATABASE_URL"] = f"sqlite:///{database}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
        cwd=database.parent,
    )
    loaded: list[str] = json.loads(result.stdout.rsplit("LOADED", 1)[1])
    return loaded


def test_light_commands_load_neither_sqlalchemy_nor_alembic_nor_the_scheduler(
    sqlite_template: Path, tmp_path: Path
) -> None:
    # On a current, seeded database they read through the driver alone (bot.db.dbapi).
    database = tmp_path / "trends.db"
    shutil.copy(sqlite_template, database)
    # The first `topics list` seeds the default topics: that is the full path's work, SQLAlchemy's.
    assert _heavy_after_command(["topics", "list"], database) == ["sqlalchemy"]
    for args in LIGHT_COMMANDS:
        assert _heavy_after_command(args, database) == [], args
    # The check sees Alembic when it is needed: a brand-new database is created by migrating it.
    assert "alembic" in _heavy_after_command(["status"], tmp_path / "new.db")
