"""Full-text index over papers (title, abstract, authors): one interface, two engines.

SQLite uses an FTS5 external-content table `papers_fts` kept in sync by triggers; PostgreSQL uses a
generated `papers.search_vector` tsvector column with a GIN index. Both are created by migrations with
the DDL below, and `ensure_sqlite_triggers` re-creates the triggers after every migration run because
Alembic's SQLite batch mode rebuilds tables and silently drops their triggers.

User text never reaches either query syntax raw: callers pass an `FtsQuery` made of plain tokens
(letters and digits only, see `bot.textquery`), which this module quotes for FTS5 or binds as
parameters for PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

FTS_TABLE = "papers_fts"

# Title matches weigh most, then authors, then abstract (bm25 column weights / tsvector labels).
SQLITE_BM25_WEIGHTS = (10.0, 1.0, 4.0)

SQLITE_CREATE_FTS = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
    title, abstract, authors_text,
    content='papers', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
)
"""

SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER IF NOT EXISTS papers_fts_after_insert AFTER INSERT ON papers BEGIN
        INSERT INTO {FTS_TABLE}(rowid, title, abstract, authors_text)
        VALUES (new.id, new.title, new.abstract, new.authors_text);
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS papers_fts_after_delete AFTER DELETE ON papers BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, abstract, authors_text)
        VALUES ('delete', old.id, old.title, old.abstract, old.authors_text);
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS papers_fts_after_update AFTER UPDATE ON papers BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, abstract, authors_text)
        VALUES ('delete', old.id, old.title, old.abstract, old.authors_text);
        INSERT INTO {FTS_TABLE}(rowid, title, abstract, authors_text)
        VALUES (new.id, new.title, new.abstract, new.authors_text);
    END
    """,
)
SQLITE_TRIGGER_NAMES = ("papers_fts_after_insert", "papers_fts_after_delete", "papers_fts_after_update")

POSTGRES_ADD_VECTOR = """
ALTER TABLE papers ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('simple', coalesce(authors_text, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(abstract, '')), 'C')
) STORED
"""
POSTGRES_CREATE_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_papers_search_vector ON papers USING gin (search_vector)"
)


def create_index(connection: Connection) -> None:
    """Create the dialect's full-text index over `papers` (used by the initial migration)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(SQLITE_CREATE_FTS)
        ensure_sqlite_triggers(connection)
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(POSTGRES_ADD_VECTOR)
        connection.exec_driver_sql(POSTGRES_CREATE_INDEX)


def drop_index(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_papers_search_vector")
        connection.exec_driver_sql("ALTER TABLE papers DROP COLUMN IF EXISTS search_vector")


def ensure_sqlite_triggers(connection: Connection) -> bool:
    """(Re)create the FTS sync triggers if the FTS table exists. Returns True if any was missing."""
    if connection.dialect.name != "sqlite":
        return False
    present = {
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"
        )
    }
    if FTS_TABLE not in present or "papers" not in present:
        return False
    missing = [name for name in SQLITE_TRIGGER_NAMES if name not in present]
    for ddl in SQLITE_TRIGGERS:
        connection.exec_driver_sql(ddl)
    if missing:
        # Rows written while the triggers were gone are not indexed: rebuild from the content table.
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    return bool(missing)


@dataclass(frozen=True, slots=True)
class FtsQuery:
    """A sanitised full-text query: every string is a plain token (letters/digits, no operators)."""

    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()
    authors: tuple[tuple[str, ...], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.phrases or self.authors)


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper_id: int
    score: float


@dataclass(frozen=True, slots=True)
class SearchFilter:
    since: dt.datetime | None = None  # submitted_at >= since
    until: dt.datetime | None = None  # submitted_at < until
    paper_ids: frozenset[int] | None = field(default=None)


def _fts5_string(tokens: tuple[str, ...] | list[str]) -> str:
    # Tokens are letters/digits only, so double quotes cannot appear inside; quoting makes each one a
    # literal string (or phrase) to FTS5 even if it spells an operator such as NEAR, AND or NOT.
    return '"' + " ".join(tokens) + '"'


def sqlite_match_expression(query: FtsQuery) -> str:
    """The FTS5 MATCH string for a sanitised query (empty string when nothing positive is asked)."""
    parts: list[str] = [_fts5_string([w]) for w in query.words]
    parts += [_fts5_string(p) for p in query.phrases]
    parts += [f"authors_text : {_fts5_string(a)}" for a in query.authors]
    if not parts:
        return ""
    expression = " AND ".join(parts)
    for word in query.excluded:
        expression = f"({expression}) NOT {_fts5_string([word])}"
    return expression


def _pg_lexeme(token: str, weight: str | None = None) -> str:
    # Single-quoted lexeme; tokens have no quotes or backslashes, so this cannot break out.
    return f"'{token}'" + (f":{weight}" if weight else "")


def postgres_tsquery(query: FtsQuery) -> tuple[str, dict[str, str]]:
    """SQL for a tsquery expression plus its bound parameters (user tokens are always parameters)."""
    parts: list[str] = []
    params: dict[str, str] = {}
    if query.words:
        params["q_words"] = " ".join(query.words)
        parts.append("plainto_tsquery('english', :q_words)")
    for i, phrase in enumerate(query.phrases):
        params[f"q_phrase{i}"] = " ".join(phrase)
        parts.append(f"phraseto_tsquery('english', :q_phrase{i})")
    for i, author in enumerate(query.authors):
        params[f"q_author{i}"] = " <-> ".join(_pg_lexeme(t.lower(), "B") for t in author)
        parts.append(f"to_tsquery('simple', :q_author{i})")
    if not parts:
        return "", {}
    expression = " && ".join(parts)
    for i, word in enumerate(query.excluded):
        params[f"q_not{i}"] = word
        expression = f"({expression}) && !!plainto_tsquery('english', :q_not{i})"
    return expression, params


def search(
    session: Session,
    query: FtsQuery,
    *,
    filters: SearchFilter | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[SearchHit]:
    """Best matches first (ties: newest first). An empty or all-stop-word query returns []."""
    if query.is_empty or limit <= 0:
        return []
    filters = filters or SearchFilter()
    where: list[str] = []
    params: dict[str, object] = {"limit": limit, "offset": max(offset, 0)}
    if filters.since is not None:
        where.append("p.submitted_at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        where.append("p.submitted_at < :until")
        params["until"] = filters.until
    if filters.paper_ids is not None:
        if not filters.paper_ids:
            return []
        ids = ",".join(str(int(i)) for i in sorted(filters.paper_ids))
        where.append(f"p.id IN ({ids})")
    extra = "".join(f" AND {clause}" for clause in where)

    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        match = sqlite_match_expression(query)
        params["match"] = match
        w_title, w_abstract, w_authors = SQLITE_BM25_WEIGHTS
        sql = (
            f"SELECT p.id, -bm25({FTS_TABLE}, {w_title}, {w_abstract}, {w_authors}) AS score "
            f"FROM {FTS_TABLE} JOIN papers p ON p.id = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH :match{extra} "
            "ORDER BY score DESC, p.submitted_at DESC, p.id DESC LIMIT :limit OFFSET :offset"
        )
    elif dialect == "postgresql":
        tsquery, tsparams = postgres_tsquery(query)
        params.update(tsparams)
        # Weights for D, C, B, A: abstract (C) < authors (B) < title (A), mirroring the bm25 weights.
        sql = (
            "SELECT p.id, ts_rank(p.search_vector, q.query, 1) * 10 AS score "
            f"FROM papers p, ({'SELECT ' + tsquery + ' AS query'}) q "
            f"WHERE p.search_vector @@ q.query{extra} "
            "ORDER BY score DESC, p.submitted_at DESC, p.id DESC LIMIT :limit OFFSET :offset"
        )
    else:  # pragma: no cover - only the two supported engines exist
        raise RuntimeError(f"full-text search is not supported on {dialect}")
    rows = session.execute(text(sql), params).all()
    return [SearchHit(int(row[0]), float(row[1])) for row in rows]
