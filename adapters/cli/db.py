"""`trends db …`: create and migrate the schema."""

from __future__ import annotations

from adapters.cli.app import console, container, db_app


@db_app.command("upgrade")
def upgrade(revision: str = "head") -> None:
    """Create the database or migrate it to the newest schema (safe to run again)."""
    from bot.db import migrations

    with container(check_schema=False) as c:
        before = migrations.current_revision(c.engine)
        migrations.upgrade(c.engine, revision)
        after = migrations.current_revision(c.engine)
        where = c.engine.url.render_as_string(hide_password=True)
        if before == after:
            console.print(f"Database {where} is up to date (revision {after}).")
        else:
            console.print(f"Database {where} migrated: {before or 'empty'} → {after}.")


@db_app.command("current")
def current() -> None:
    """Show the database's schema revision and the newest one this version knows."""
    from bot.db import migrations

    with container(check_schema=False) as c:
        console.print(
            f"current: {migrations.current_revision(c.engine) or 'empty'}; "
            f"newest: {migrations.head_revision(c.engine)}"
        )
