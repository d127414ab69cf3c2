"""Which audience a name means, read with plain SQL: the lookup the light commands share.

`DEFAULT_AUDIENCE` lives here rather than in `bot.audiences` so that a command answering through
`bot.db.dbapi` (no SQLAlchemy) can name it; `bot.audiences` re-exports it.
"""

from __future__ import annotations

from bot.db.reader import SqlReader, scalar

DEFAULT_AUDIENCE = "default"


def audience_id_if_exists(reader: SqlReader, name: str | None) -> int | None:
    """The id of the audience named `name` (None: `default`), or None when there is none by that name.

    The full path (`bot.audiences.audience_id`) creates a missing `default` and explains an unknown
    name; a caller getting None here hands over to it.
    """
    wanted = DEFAULT_AUDIENCE if name is None else name.strip().casefold()
    found = scalar(reader, "SELECT id FROM audiences WHERE name = :name", {"name": wanted})
    return None if found is None else int(found)
