"""Migrations are the only way the schema is made, and the full-text index survives every one of them."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from alembic import command
from bot.db import fts, migrations
from bot.db.engine import make_engine, make_session_factory
from bot.errors import DatabaseNotReadyError
from bot.textquery import parse_text_query
from tests.conftest import PG_URL_ENV, PostgresDatabases
from tests.paper_corpus import generate_papers

NOW = dt.datetime(2026, 10, 5, 12, tzinfo=dt.UTC)


def insert_paper(conn: Connection, arxiv_id: str, title: str) -> None:
    # Raw SQL with the columns of revision 0001, so it works at every revision.
    conn.execute(
        text(
            "INSERT INTO papers (arxiv_id, version, title, abstract, authors, authors_text, categories, "
            "primary_category, submitted_at, updated_at, abs_url, pdf_url, harvested_at, refreshed_at) "
            "VALUES (:a, 1, :t, 'An abstract.', '[]', 'Ada Lovelace', '[\"cs.LG\"]', 'cs.LG', "
            ":now, :now, 'u', 'u', :now, :now)"
        ),
        {"a": arxiv_id, "t": title, "now": NOW},
    )


def found(engine: Engine, words: str) -> list[int]:
    with make_session_factory(engine)() as session:
        return [hit.paper_id for hit in fts.search(session, parse_text_query(words))]


def revisions_base_to_head(engine: Engine) -> list[str]:
    script = ScriptDirectory.from_config(migrations.alembic_config(engine))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def assert_index_in_sync(engine: Engine, tag: str) -> None:
    word, renamed = f"okapi{tag}", f"ibex{tag}"
    with engine.begin() as conn:
        insert_paper(conn, f"2510.9{tag}", f"Sparse {word} experts")
    assert len(found(engine, word)) == 1, tag
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE papers SET title = :t WHERE title LIKE :w"), {"t": renamed, "w": f"%{word}%"}
        )
    assert found(engine, word) == [], tag
    assert len(found(engine, renamed)) == 1, tag
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM papers WHERE title = :t"), {"t": renamed})
    assert found(engine, renamed) == [], tag


# --- the schema ----------------------------------------------------------------------------


def test_migrated_schema_matches_the_models(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    command.check(migrations.alembic_config(empty_engine))  # raises if autogenerate sees a difference


def test_index_in_sync_at_every_revision_up_and_down(empty_engine: Engine) -> None:
    revisions = revisions_base_to_head(empty_engine)
    assert len(revisions) >= 2
    for step, revision in enumerate(revisions):
        migrations.upgrade(empty_engine, revision)
        assert_index_in_sync(empty_engine, f"{step:02d}1")
    for step, revision in enumerate(reversed(revisions[:-1])):
        migrations.downgrade(empty_engine, revision)
        assert migrations.current_revision(empty_engine) == revision
        assert_index_in_sync(empty_engine, f"{step:02d}2")
    migrations.downgrade(empty_engine, "base")
    assert set(sa.inspect(empty_engine).get_table_names()) <= {"alembic_version"}


def test_downgrade_and_upgrade_keep_papers_searchable(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        insert_paper(conn, "2510.00001", "Quokka diffusion")
        insert_paper(conn, "2510.00002", "Wombat retrieval")
    first = revisions_base_to_head(empty_engine)[0]
    migrations.downgrade(empty_engine, first)
    migrations.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT arxiv_id FROM papers ORDER BY arxiv_id")).scalars().all() == [
            "2510.00001",
            "2510.00002",
        ]
    assert len(found(empty_engine, "quokka")) == 1
    assert len(found(empty_engine, "wombat retrieval")) == 1


# --- ensure_ready --------------------------------------------------------------------------


def test_ensure_ready_creates_an_empty_database(empty_engine: Engine) -> None:
    migrations.ensure_ready(empty_engine)
    assert migrations.current_revision(empty_engine) == migrations.head_revision(empty_engine)
    migrations.ensure_ready(empty_engine)  # and accepts it afterwards


def test_the_cheap_head_revision_is_alembics_head(empty_engine: Engine) -> None:
    # Every command compares the database with HEAD_REVISION instead of loading the scripts: a new
    # migration must bump it, or commands would refuse every freshly upgraded database.
    assert migrations.head_revision(empty_engine) == migrations.HEAD_REVISION


def test_ensure_ready_refuses_an_older_revision(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine, revisions_base_to_head(empty_engine)[0])
    with pytest.raises(DatabaseNotReadyError, match="trends db upgrade"):
        migrations.ensure_ready(empty_engine)


def test_ensure_ready_refuses_an_unknown_revision(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    with pytest.raises(DatabaseNotReadyError, match="does not know"):
        migrations.ensure_ready(empty_engine)


def test_ensure_ready_refuses_a_foreign_database(empty_engine: Engine) -> None:
    with empty_engine.begin() as conn:
        conn.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY)"))
    with pytest.raises(DatabaseNotReadyError, match="no migration history"):
        migrations.ensure_ready(empty_engine)
    assert migrations.current_revision(empty_engine) is None


def test_percent_sign_in_the_url_is_not_config_syntax(tmp_path: Path) -> None:
    folder = tmp_path / "100% sure"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'trends.db'}")
    migrations.ensure_ready(engine)
    assert migrations.current_revision(engine) == migrations.head_revision(engine)
    engine.dispose()


# --- the SQLite batch-mode trap ------------------------------------------------------------


def sqlite_triggers(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())


def test_batch_rebuild_drops_triggers_and_ensure_restores_them(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        insert_paper(conn, "2510.00001", "Quokka before the rebuild")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # as alembic/env.py does for migrations
        conn.commit()
        with conn.begin():
            with Operations(MigrationContext.configure(conn)).batch_alter_table(
                "papers", recreate="always"
            ) as b:
                b.alter_column("comment", existing_type=sa.Text(), nullable=True)
            assert sqlite_triggers(conn) == set()  # the trap: the rebuilt table lost them
            insert_paper(conn, "2510.00002", "Wombat during the gap")
        assert len(found(engine, "quokka")) == 1  # old rows are still indexed (same rowids)
        assert found(engine, "wombat") == []  # the new row is not
        with conn.begin():
            assert fts.ensure_sqlite_triggers(conn) is True
            assert sqlite_triggers(conn) == set(fts.SQLITE_TRIGGER_NAMES)
            assert fts.ensure_sqlite_triggers(conn) is False
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()
    assert len(found(engine, "wombat")) == 1
    assert_index_in_sync(engine, "991")
    engine.dispose()


BATCH_MIGRATION = '''
"""Test-only migration: rebuild `papers` in batch mode and write a paper while triggers are gone."""

import sqlalchemy as sa
from alembic import op

revision = "batchtest"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers", recreate="always") as batch:
        batch.alter_column("comment", existing_type=sa.Text(), nullable=True)
    op.execute(
        "INSERT INTO papers (arxiv_id, version, title, abstract, authors, authors_text, categories, "
        "primary_category, submitted_at, updated_at, abs_url, pdf_url, harvested_at, refreshed_at) "
        "VALUES ('2510.00003', 1, 'Capybara written mid-migration', '', '[]', '', '[]', 'cs.LG', "
        "'2026-10-05 12:00:00.000000', '2026-10-05 12:00:00.000000', 'u', 'u', "
        "'2026-10-05 12:00:00.000000', '2026-10-05 12:00:00.000000')"
    )


def downgrade() -> None:
    pass
'''


def test_env_restores_triggers_and_keeps_child_rows_after_a_batch_migration(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    head = migrations.head_revision(engine)
    scripts = tmp_path / "alembic"
    shutil.copytree(migrations.script_location(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_batch_test.py").write_text(
        textwrap.dedent(BATCH_MIGRATION).format(head=head)
    )
    with engine.begin() as conn:
        insert_paper(conn, "2510.00001", "Quokka before the rebuild")
        conn.execute(
            text(
                "INSERT INTO votes "
                "(audience_id, platform, workspace_id, user_id, paper_id, value, created_at) "
                "SELECT (SELECT id FROM audiences WHERE name = 'default'), 'slack', 'T1', 'U1', id, 1, "
                ":now FROM papers"
            ),
            {"now": NOW},
        )

    config = migrations.alembic_config(engine)
    config.set_main_option("script_location", str(scripts))
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "batchtest"
        assert sqlite_triggers(conn) == set(fts.SQLITE_TRIGGER_NAMES)
        # With foreign keys on, the batch DROP TABLE would have cascaded into the votes.
        assert conn.execute(text("SELECT count(*) FROM votes")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert len(found(engine, "quokka")) == 1
    assert len(found(engine, "capybara")) == 1  # written while the triggers were gone, indexed now
    assert_index_in_sync(engine, "992")
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_keeps_paper_rows_whole(pg_databases: PostgresDatabases | None) -> None:
    # Revision 0005: a paper's search vector is compressed in its row instead of being moved to the
    # TOAST table (every full-text test of a row would fetch it back from there).
    if pg_databases is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")
    abstract = ""
    for paper in generate_papers(40, seed=5, hostile_share=0.0):  # 1.9 kB of varied, team-written text
        if len(abstract) + len(paper.abstract) > 1900:
            break
        abstract = f"{abstract} {paper.abstract}".strip()
    abstract += " The last word is zephyrine."
    last_word = abstract.split()[-1].strip(".")
    engine = make_engine(pg_databases.create())

    def add_paper_and_count_toasted(arxiv_id: str) -> int:
        with engine.begin() as conn:
            insert_paper(conn, arxiv_id, "Sparse experts")
            conn.execute(
                text("UPDATE papers SET abstract = :a WHERE arxiv_id = :i"), {"a": abstract, "i": arxiv_id}
            )
            toast = conn.execute(
                text("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'papers'")
            ).scalar_one()
            return int(conn.execute(text(f"SELECT count(*) FROM {toast}")).scalar_one())

    def options() -> list[str]:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'papers'")).scalar()
            return list(found or [])

    try:
        migrations.upgrade(engine, "0004")
        assert add_paper_and_count_toasted("2510.00001") > 0  # the default moves the vector out
        migrations.upgrade(engine)
        assert options() == ["toast_tuple_target=4080"]
        assert add_paper_and_count_toasted("2510.00002") == 0  # the upgrade rewrote the first one too
        assert len(found(engine, f"sparse {last_word}")) == 2
        migrations.downgrade(engine, "0004")
        assert options() == []
    finally:
        engine.dispose()
