"""Full-text index over papers (title, abstract, authors): one interface, two engines.

SQLite uses an FTS5 external-content table `papers_fts` kept in sync by triggers; PostgreSQL uses a
generated `papers.search_vector` tsvector column with a GIN index. Both are created by migrations with
the DDL below, and `ensure_sqlite_triggers` re-creates the triggers after every migration run because
Alembic's SQLite batch mode rebuilds tables and silently drops their triggers.

User text never reaches either query syntax raw: callers pass an `FtsQuery` made of plain tokens
(letters and digits only, see `bot.textquery`). For FTS5 each token is wrapped in double quotes (a
literal string, whatever it spells); for PostgreSQL every token is a bound parameter given to
`plainto_tsquery`/`phraseto_tsquery`, which never interpret operators, so no tsquery syntax is ever
built from user text.

Both engines rank title matches first, then author matches, then abstract matches, and break ties by
newest submission then highest id, so the same data gives the same top results on either engine.

Speed (100,000 papers, p95 ≈ 12 ms on SQLite, 20 ms on PostgreSQL; docs/benchmarks.md): only the
newest RANK_CANDIDATES matches are ranked. FTS5 lists matches newest first for free; on PostgreSQL
they are found in bounded id ranges (`_postgres_candidates`), with custom plans only, and each row's
vector is read from the row itself (migration 0005).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Connection, Float, Integer, TextClause, bindparam, text
from sqlalchemy.orm import Session

from bot.db.models import UTCDateTime

FTS_TABLE = "papers_fts"

# Paging bounds: a chat command can ask for any numbers, the database should not see absurd ones.
MAX_LIMIT = 1000
MAX_OFFSET = 100_000


class ColumnWeights(NamedTuple):
    title: float
    abstract: float
    authors: float


# FTS5 bm25 column weights, in the FTS table's column order (title, abstract, authors_text).
SQLITE_BM25_WEIGHTS = ColumnWeights(title=10.0, abstract=1.0, authors=20.0)

# ts_rank weights for the tsvector labels {D, C, B, A}: abstract is C, authors B, title A. Tuned with
# the normalisation below so PostgreSQL's top results match SQLite's bm25 (tests/test_fts.py).
POSTGRES_RANK_WEIGHTS = "{0.0, 0.1, 0.4, 1.0}"
# 1 = divide by 1 + log(document length): long abstracts do not win by sheer size (as in bm25).
POSTGRES_RANK_NORMALIZATION = 0
# Among papers whose title holds the whole query, shorter titles (counted in steps of this many
# characters) rank first: the title is more about the query. Identical on both engines by design.
TITLE_BUCKET_CHARS = 25
# At most this many matches (the most recently stored) are ranked; see `search`.
RANK_CANDIDATES = 500
# PostgreSQL looks for those candidates among the newest this-many ids first; see `_postgres_candidates`.
RECENT_WINDOW_IDS = 4 * RANK_CANDIDATES
# SQLite checks a date window of up to this many papers as a set of ids, a wider one paper by paper.
SQLITE_DATE_SET_MAX = 10 * RANK_CANDIDATES
# Bounded id ranges tried before the rest of the matches is read through the index.
CANDIDATE_PROBES = 4
# Below this share of matching papers, the GIN index should drive the search of an id range.
SPARSE_SHARE = 0.1

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
        rebuild_sqlite_index(connection)
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(POSTGRES_ADD_VECTOR)
        connection.exec_driver_sql(POSTGRES_CREATE_INDEX)


def drop_index(connection: Connection) -> None:
    """Remove the dialect's full-text index (used by the initial migration's downgrade)."""
    if connection.dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("DROP INDEX IF EXISTS ix_papers_search_vector")
        connection.exec_driver_sql("ALTER TABLE papers DROP COLUMN IF EXISTS search_vector")


def rebuild_sqlite_index(connection: Connection) -> None:
    """Re-read every paper into the FTS5 index (after rows were written without the triggers)."""
    connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def missing_sqlite_triggers(connection: Connection) -> list[str]:
    """Names of FTS sync triggers absent although the FTS table exists ([] on PostgreSQL)."""
    if connection.dialect.name != "sqlite":
        return []
    present = {
        row[0]
        for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"
        )
    }
    if FTS_TABLE not in present or "papers" not in present:
        return []
    return [name for name in SQLITE_TRIGGER_NAMES if name not in present]


def ensure_sqlite_triggers(connection: Connection) -> bool:
    """(Re)create the FTS sync triggers if the FTS table exists. Returns True if any was missing."""
    missing = missing_sqlite_triggers(connection)
    if not missing:
        return False
    for ddl in SQLITE_TRIGGERS:
        connection.exec_driver_sql(ddl)
    # Rows written while the triggers were gone are not indexed: rebuild from the content table.
    rebuild_sqlite_index(connection)
    return True


@dataclass(frozen=True, slots=True)
class FtsQuery:
    """A sanitised full-text query: every string is a plain token (letters/digits, no operators).

    `words` must all match (any column), `phrases` must match in order, `authors` are phrases that
    must match in the authors, and papers containing any `excluded` word are left out.
    """

    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()
    authors: tuple[tuple[str, ...], ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing positive is asked (exclusions alone would match almost everything)."""
        return not (self.words or self.phrases or self.authors)


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper_id: int
    score: float
    # The paper's submission time (aware, UTC), so callers can weigh recency without another query.
    submitted_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SearchFilter:
    since: dt.datetime | None = None  # submitted_at >= since (aware datetime)
    until: dt.datetime | None = None  # submitted_at < until (aware datetime)
    paper_ids: frozenset[int] | None = field(default=None)  # only these papers (empty: none)


def _is_token(value: str) -> bool:
    return bool(value) and all(ch.isalnum() for ch in value)


def _checked(query: FtsQuery) -> FtsQuery:
    """Refuse a hand-built query holding anything but plain tokens (a bug, not user input)."""
    strings = [*query.words, *query.excluded]
    strings += [token for group in (*query.phrases, *query.authors) for token in group]
    if not all(_is_token(value) for value in strings):
        raise ValueError("FtsQuery tokens must be letters and digits only; build it with parse_text_query")
    return query


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
    if query.excluded:
        expression = f"({expression}) NOT ({' OR '.join(_fts5_string([w]) for w in query.excluded)})"
    return expression


def sqlite_title_expression(query: FtsQuery) -> str:
    """FTS5 MATCH string for "every word and phrase is in the title" ('' if there are none)."""
    parts = [_fts5_string([w]) for w in query.words] + [_fts5_string(p) for p in query.phrases]
    return f"title : ({' AND '.join(parts)})" if parts else ""


def _pg_word(param: str) -> str:
    # Titles and abstracts are stemmed ('english'), author names are not ('simple'): a word matches
    # either form, so "Jones" finds the author Jones as SQLite's porter-stemmed index does.
    return f"(plainto_tsquery('english', :{param}) || plainto_tsquery('simple', :{param}))"


def postgres_parts(query: FtsQuery) -> tuple[list[str], list[str], dict[str, str]]:
    """Positive tsquery parts (one per word, phrase, author), exclusions, and their parameters."""
    parts: list[str] = []
    excluded: list[str] = []
    params: dict[str, str] = {}
    for i, word in enumerate(query.words):
        params[f"q_word{i}"] = word
        parts.append(_pg_word(f"q_word{i}"))
    for i, phrase in enumerate(query.phrases):
        params[f"q_phrase{i}"] = " ".join(phrase)
        parts.append(f"phraseto_tsquery('english', :q_phrase{i})")
    for i, author in enumerate(query.authors):
        params[f"q_author{i}"] = " ".join(author)
        parts.append(f"phraseto_tsquery('simple', :q_author{i})")
    for i, word in enumerate(query.excluded):
        params[f"q_not{i}"] = word
        excluded.append(_pg_word(f"q_not{i}"))
    return parts, excluded, params


def postgres_query_sql(query: FtsQuery, alias: str = "q") -> tuple[str, str, str, str, dict[str, str]]:
    """SQL pieces: FROM-subquery `alias`, relevance, title-tier tsquery, extra row condition; params.

    Every user token is a bound parameter to `plainto_tsquery`/`phraseto_tsquery`, which treat their
    input as text, never as tsquery operators. The score sums one weighted `ts_rank` per query part:
    like bm25, each term counts by its own frequency (ts_rank of an AND query would rank by proximity
    instead, and disagree with SQLite). Author names must match in the authors (label B): the tsquery
    finds candidates through the GIN index and `ts_filter` keeps only author matches. With another
    alias than `q`, parameter names are prefixed with it, so several queries can share a statement.
    """
    parts, excluded, params = postgres_parts(query)
    if not parts:
        return "", "", "", "", {}
    columns = [f"{part} AS q{i}" for i, part in enumerate(parts)]
    match = " && ".join(f"q{i}" for i in range(len(parts)))
    if excluded:
        match = f"({match}) && !!({' || '.join(excluded)})"
    textual = len(query.words) + len(query.phrases)
    title_query = " && ".join(f"q{i}" for i in range(textual)) or "NULL::tsquery"
    subquery = (
        f"(SELECT *, {match} AS query, {title_query} AS title_query "
        f"FROM (SELECT {', '.join(columns)}) terms) {alias}"
    )
    if alias != "q":
        subquery = _prefixed(subquery, f"{alias}_")
        params = {f"{alias}_{name}": value for name, value in params.items()}
    score = " + ".join(
        f"ts_rank('{POSTGRES_RANK_WEIGHTS}', p.search_vector, {alias}.q{i}, {POSTGRES_RANK_NORMALIZATION})"
        for i in range(len(parts))
    )
    conditions = [
        f"ts_filter(p.search_vector, '{{b}}') @@ {alias}.q{textual + i}" for i in range(len(query.authors))
    ]
    title = f"{alias}.title_query" if textual else ""
    return subquery, f"({score})", title, " AND ".join(conditions), params


def sqlite_any_expression(variants: Sequence[FtsQuery]) -> str:
    """The FTS5 MATCH string for "any of these queries" ('' when none asks anything)."""
    expressions = [e for e in (sqlite_match_expression(v) for v in variants) if e]
    return expressions[0] if len(expressions) == 1 else " OR ".join(f"({e})" for e in expressions)


def postgres_any_condition(variants: Sequence[FtsQuery]) -> tuple[str, dict[str, str]]:
    """A condition on `papers p` for "any of these queries" and its parameters ('' when none asks).

    Each query's parameters are prefixed (`v0_`, `v1_`, …) so the OR-ed queries don't collide.
    Author names must match in the authors (label B), as `search` requires; the queries of one
    search share them (they come from one `author:` list).
    """
    alternatives: list[str] = []
    params: dict[str, str] = {}
    live = [v for v in variants if not v.is_empty]
    for index, variant in enumerate(live):
        parts, excluded, variant_params = postgres_parts(variant)
        expression = " && ".join(f"({part})" for part in parts)
        if excluded:
            expression = f"({expression}) && !!({' || '.join(excluded)})"
        alternatives.append(f"({_prefixed(expression, f'v{index}_')})")
        params.update({f"v{index}_{name}": value for name, value in variant_params.items()})
    if not alternatives:
        return "", {}
    condition = "p.search_vector @@ (" + " || ".join(alternatives) + ")"
    author_parts, _, author_params = postgres_parts(FtsQuery(authors=live[0].authors))
    for part in author_parts:
        condition += f" AND ts_filter(p.search_vector, '{{b}}') @@ {_prefixed(part, 'a_')}"
    params.update({f"a_{name}": value for name, value in author_params.items()})
    return condition, params


_PARAM = re.compile(r":(q_\w+)")


def _prefixed(sql: str, prefix: str) -> str:
    return _PARAM.sub(lambda m: f":{prefix}{m.group(1)}", sql)


# psycopg prepares a statement once its text has run five times on a connection, and PostgreSQL may
# then switch to a generic plan that cannot see the query words: it assumes every tsquery matches
# 0.5% of papers and may pick, for a rare phrase, a walk down the primary key that reads the whole
# table (0.7 s instead of 5 ms). Search statements differ only in their words, so a busy connection
# would hit this all the time. The setting is transaction-local; `set_config` lets the first
# statement of a search carry it.
_CUSTOM_PLANS_ONLY = "set_config('plan_cache_mode', 'force_custom_plan', true)"


def use_custom_plans(session: Session) -> None:
    """Plan the rest of this transaction's statements for their actual parameters (PostgreSQL only).

    For full-text statements built outside `search` (counts per month); see `_CUSTOM_PLANS_ONLY`.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT {_CUSTOM_PLANS_ONLY}"))


class _Filters(NamedTuple):
    """A `SearchFilter` as SQL: conditions on `papers` columns, their parameters and typed binds."""

    dated: list[str]
    id_list: str
    params: dict[str, Any]
    binds: list[BindParameter[Any]]


def _filters_sql(filters: SearchFilter) -> _Filters:
    dated: list[str] = []
    params: dict[str, Any] = {}
    binds: list[BindParameter[Any]] = []
    if filters.since is not None:
        dated.append("submitted_at >= :since")
        params["since"] = filters.since
        binds.append(bindparam("since", type_=UTCDateTime()))
    if filters.until is not None:
        dated.append("submitted_at < :until")
        params["until"] = filters.until
        binds.append(bindparam("until", type_=UTCDateTime()))
    # int() makes every id a number literal; a list avoids SQLite's bound-parameter limit.
    id_list = ",".join(str(int(i)) for i in sorted(filters.paper_ids or ()))
    return _Filters(dated, id_list, params, binds)


def _statement(sql: str, where: _Filters) -> TextClause:
    """`sql` with the date parameters typed (so SQLite compares them in its stored text format)."""
    return text(sql).bindparams(*(bind for bind in where.binds if f":{bind.key}" in sql))


def _focus(shortest: str) -> str:
    """Title-tier bonus: 49 for titles under TITLE_BUCKET_CHARS characters, one less per step."""
    return f"(49 - {shortest}(length(p.title) / {TITLE_BUCKET_CHARS}, 49))"


def _ranked(inner: str) -> str:
    """Order the rows of `inner` (id, submitted_at, in_title, focus, fine) by the shared rule."""
    return (
        "SELECT id, in_title * (3 + focus) + fine / (1.0 + fine) AS score, submitted_at "
        f"FROM ({inner}) ranked ORDER BY score DESC, submitted_at DESC, id DESC LIMIT :limit OFFSET :offset"
    )


def _hits(session: Session, inner: str, where: _Filters, params: dict[str, Any]) -> list[SearchHit]:
    statement = _statement(_ranked(inner), where).columns(
        id=Integer(), score=Float(), submitted_at=UTCDateTime()
    )
    return [SearchHit(int(row[0]), float(row[1]), row[2]) for row in session.execute(statement, params)]


def _best_of(hits: list[SearchHit], limit: int, offset: int) -> list[SearchHit]:
    """Each paper once, with its best score, in the order of `_ranked`."""
    best: dict[int, SearchHit] = {}
    for hit in hits:
        if hit.paper_id not in best or hit.score > best[hit.paper_id].score:
            best[hit.paper_id] = hit
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    ordered = sorted(
        best.values(), key=lambda h: (h.score, h.submitted_at or oldest, h.paper_id), reverse=True
    )
    return ordered[offset : offset + limit]


def search(
    session: Session,
    query: FtsQuery | Sequence[FtsQuery],
    *,
    filters: SearchFilter | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[SearchHit]:
    """Best matches first (ties: newest first, then highest id). An empty query returns [].

    Several queries are alternatives (a `topic:` search): a paper matching any of them is found
    once, with the score of the best one it matches.

    Ranking, the same rule on both engines so they agree on the top results:
    1. papers whose title holds every word and phrase come first (the "title tier"), and among
       them shorter titles (in TITLE_BUCKET_CHARS steps): the paper is about the query;
    2. then the engine's own relevance `fine` (bm25 / summed ts_rank, mapped into [0, 1));
    3. then newest first, then highest id, so ties are deterministic.
    The score folds 1 and 2 into one number: title tier 3..53, others 0..1.

    Only the RANK_CANDIDATES most recently stored matches are ranked. Ranking every match of a very
    common word ("model": half the archive) costs seconds on either engine; the newest few hundred
    hold what a chat answer shows, and smaller result sets are ranked whole.
    """
    queries = [query] if isinstance(query, FtsQuery) else list(query)
    variants = list(dict.fromkeys(_checked(q) for q in queries if not q.is_empty))
    limit = min(limit, MAX_LIMIT)
    offset = min(max(offset, 0), MAX_OFFSET)
    filters = filters or SearchFilter()
    if not variants or limit <= 0 or (filters.paper_ids is not None and not filters.paper_ids):
        return []
    where = _filters_sql(filters)
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return _sqlite_search(session, variants, where, limit, offset)
    if dialect == "postgresql":
        return _postgres_search(session, variants, where, limit, offset)
    raise RuntimeError(f"full-text search is not supported on {dialect}")  # pragma: no cover


def _sqlite_search(
    session: Session, variants: list[FtsQuery], where: _Filters, limit: int, offset: int
) -> list[SearchHit]:
    """FTS5 walks its matches newest (highest rowid) first at no cost, so the candidates are simply
    the matches from the RANK_CANDIDATES-th newest on; each variant then ranks its own matches."""
    table = FTS_TABLE
    row_id = f"{table}.rowid"
    params: dict[str, Any] = {**where.params, "match": sqlite_any_expression(variants)}
    # CROSS JOIN makes SQLite drive from the FTS index; the other order would run the full-text
    # query once per paper row (seconds instead of milliseconds).
    joined = f"{table} CROSS JOIN papers p ON p.id = {row_id}"
    source = table  # enough to find the candidates: no paper row is read
    conditions = [f"{table} MATCH :match"]
    if where.dated:
        # A date window is checked either as a set of ids built from the submitted_at index (cheap
        # for a month, 20 ms for two years of papers) or on each match's paper row, read as FTS5
        # walks its matches newest first (cheap unless the window holds few of them).
        dated = " AND ".join(where.dated)
        in_window = session.execute(_statement(f"SELECT count(*) FROM papers WHERE {dated}", where), params)
        if in_window.scalar_one() <= SQLITE_DATE_SET_MAX:
            # The unary + keeps SQLite from handing the IN to FTS5, which would re-run the query per id.
            conditions.append(f"+{row_id} IN (SELECT id FROM papers WHERE {dated})")
        else:
            source = joined
            conditions += [f"p.{clause}" for clause in where.dated]
    if where.id_list:
        conditions.append(f"+{row_id} IN ({where.id_list})")
    newest = (
        f"SELECT {row_id} AS id FROM {source} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {row_id} DESC LIMIT :candidates"
    )
    cutoff = session.execute(
        _statement(f"SELECT min(id) FROM ({newest}) newest", where), {**params, "candidates": RANK_CANDIDATES}
    ).scalar()
    if cutoff is None:
        return []
    params["min_id"] = int(cutoff)
    conditions.append(f"{row_id} >= :min_id")
    found: list[SearchHit] = []
    for variant in variants:
        if len(variants) > 1:
            params.update(match=sqlite_match_expression(variant), limit=offset + limit, offset=0)
        else:
            params.update(limit=limit, offset=offset)
        params["title_match"] = sqlite_title_expression(variant)
        if variant.words or variant.phrases:
            w = SQLITE_BM25_WEIGHTS
            in_title = (
                f"(p.id IN (SELECT rowid FROM {table} WHERE {table} MATCH :title_match AND rowid >= :min_id))"
            )
            # bm25() is negative in FTS5 (more negative = better).
            fine = f"-bm25({table}, {w.title}, {w.abstract}, {w.authors})"
        else:
            in_title, fine = "0", "0"  # only author names asked: all matches alike, newest first
        inner = (
            f"SELECT p.id, p.submitted_at, {in_title} AS in_title, {_focus('min')} AS focus, {fine} AS fine "
            f"FROM {joined} WHERE {' AND '.join(conditions)}"
        )
        found += _hits(session, inner, where, params)
    return found if len(variants) == 1 else _best_of(found, limit, offset)


def _postgres_search(
    session: Session, variants: list[FtsQuery], where: _Filters, limit: int, offset: int
) -> list[SearchHit]:
    """Candidates through the GIN index (`_postgres_candidates`); each variant ranks its matches."""
    params: dict[str, Any] = dict(where.params)
    if len(variants) == 1:
        subquery, _, _, condition, tsparams = postgres_query_sql(variants[0])
        source = f"papers p, {subquery}"
        text_match = " AND ".join(["p.search_vector @@ q.query", *([condition] if condition else [])])
    else:
        source = "papers p"
        text_match, tsparams = postgres_any_condition(variants)
    params.update(tsparams)
    filtered = [f"p.{clause}" for clause in where.dated]
    if where.id_list:
        filtered.append(f"p.id IN ({where.id_list})")
        # IS TRUE hides the test from the GIN index: testing each listed paper is bounded by the
        # list, while the index would read (and recheck) every match of a common phrase.
        text_match = f"({text_match}) IS TRUE"
    matching = f"SELECT p.id FROM {source} WHERE {' AND '.join([text_match, *filtered])}"
    candidates = _postgres_candidates(session, matching, where, params)
    if not candidates:
        return []
    # As array text: psycopg's dumper of a Python list costs more than the whole ranking query.
    values: dict[str, Any] = {"candidate_ids": "{" + ",".join(str(int(i)) for i in candidates) + "}"}
    values.update(limit=limit, offset=offset)
    # One statement scores every variant (a paper takes its best); OFFSET 0 keeps the subquery whole,
    # so the outer ORDER BY does not compute the scores again.
    sources, scores = ["papers p"], []
    for index, variant in enumerate(variants):
        alias = "q" if len(variants) == 1 else f"v{index}"
        subquery, fine, title_query, condition, tsparams = postgres_query_sql(variant, alias)
        values.update(tsparams)
        sources.append(subquery)
        if variant.words or variant.phrases:
            in_title = f"(CASE WHEN ts_filter(p.search_vector, '{{a}}') @@ {title_query} THEN 1 ELSE 0 END)"
            # fine / (1 + fine) as in `_ranked`, written so that ts_rank is computed once.
            score = f"{in_title} * (3 + {_focus('least')}) + (1.0 - 1.0 / (1.0 + {fine}))"
        else:
            score = "0"  # only author names asked: all matches alike, newest first
        if len(variants) > 1:  # a candidate may match another variant only
            matched = " AND ".join([f"p.search_vector @@ {alias}.query", *([condition] if condition else [])])
            score = f"CASE WHEN {matched} THEN {score} END"
        scores.append(score)
    best = scores[0] if len(scores) == 1 else f"greatest({', '.join(scores)})"
    sql = (
        f"SELECT id, score, submitted_at FROM (SELECT p.id, p.submitted_at, {best} AS score "
        f"FROM {', '.join(sources)} WHERE p.id = ANY(CAST(:candidate_ids AS integer[])) OFFSET 0) ranked "
        "WHERE score IS NOT NULL ORDER BY score DESC, submitted_at DESC, id DESC LIMIT :limit OFFSET :offset"
    )
    statement = text(sql).columns(id=Integer(), score=Float(), submitted_at=UTCDateTime())
    return [SearchHit(int(row[0]), float(row[1]), row[2]) for row in session.execute(statement, values)]


def _postgres_candidates(
    session: Session, matching: str, where: _Filters, params: dict[str, Any]
) -> list[int]:
    """Ids of the RANK_CANDIDATES newest matches: `matching` is a SELECT of matching `p.id`s.

    A GIN index returns matches in no particular order, so "the newest few hundred" needs care. One
    statement ordered by id lets PostgreSQL walk the primary key backwards testing every row, which
    reads the whole table when it expects more matches than there are (phrases of common words are
    estimated as if the words were independent: 35 times too many for "structure prediction").
    Instead we read bounded id ranges: the newest RECENT_WINDOW_IDS ids first (enough for any common
    word), then a range sized by the share of matches seen so far to hold the rest; if none were
    seen, the remaining older matches. `ORDER BY p.id + 0` hides the primary key's order so it is
    never walked.

    Within a range PostgreSQL either tests every row or intersects the GIN index with the id range.
    It prices a tsvector test like an integer comparison, so it tests every row of even a large
    range where only 5% match (20 ms instead of 6). Once matches are known to be sparse, index scans
    are switched off for the remaining ranges, which leaves the intersection.
    """
    bounds = f"SELECT min(id), max(id), {_CUSTOM_PLANS_ONLY} FROM papers"
    lowest, highest, _ = session.execute(text(bounds)).one()
    if highest is None:
        return []
    if where.id_list:  # a list of papers bounds the rows read whatever the plan
        listed = f"{matching} ORDER BY p.id DESC LIMIT :wanted"
        return list(
            session.execute(_statement(listed, where), {**params, "wanted": RANK_CANDIDATES}).scalars()
        )
    found: list[int] = []
    upper, span = int(highest), RECENT_WINDOW_IDS
    sparse = False
    for _ in range(CANDIDATE_PROBES):
        wanted = RANK_CANDIDATES - len(found)
        values = {**params, "upper": upper, "floor": upper - span, "wanted": wanted}
        ranged = f"{matching} AND p.id <= :upper AND p.id > :floor ORDER BY p.id + 0 DESC LIMIT :wanted"
        probed = list(session.execute(_statement(ranged, where), values).scalars().all())
        found += probed
        if len(found) >= RANK_CANDIDATES or upper - span < lowest:
            break
        if not sparse and len(probed) < SPARSE_SHARE * span:
            sparse = True
            session.execute(text("SET LOCAL enable_indexscan = off"))
        if not probed:
            values = {**params, "upper": upper - span, "wanted": wanted}
            rest = f"{matching} AND p.id <= :upper ORDER BY p.id + 0 DESC LIMIT :wanted"
            found += session.execute(_statement(rest, where), values).scalars().all()
            break
        # Expect the same share of matches further back; 1.5x leaves room for chance.
        upper, span = upper - span, math.ceil(1.5 * span * (wanted - len(probed)) / len(probed))
    if sparse:
        session.execute(text("SET LOCAL enable_indexscan TO DEFAULT"))
    return found
