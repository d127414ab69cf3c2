"""Full-text matching for the archive: ranked hits and per-month counts for OR-ed query variants.

Ranked hits always go through `bot.db.fts.search` (the project's one search entry point), once per
variant. Counting is different: a query with a `topic:` is several `FtsQuery` variants OR-ed
together, and trend lines need one grouped count instead of a query per month, so the counting SQL is
built here from the public expression builders of `bot.db.fts` (`sqlite_match_expression`,
`postgres_parts`): user text is still only ever quoted tokens (SQLite) or bound parameters
(PostgreSQL).

On SQLite the full-text index must drive every statement (`papers_fts CROSS JOIN papers`): joined the
other way round, SQLite runs the full-text query once per paper row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from bot.db import fts
from bot.db.fts import FtsQuery, SearchFilter, SearchHit
from bot.db.models import UTCDateTime

_PARAM = re.compile(r":(q_\w+)")


@dataclass(frozen=True, slots=True)
class _Match:
    """SQL pieces that restrict `papers p` to the rows matching any variant."""

    from_sql: str
    where_sql: str
    params: dict[str, object]


def _prefixed(sql: str, prefix: str) -> str:
    return _PARAM.sub(lambda m: f":{prefix}{m.group(1)}", sql)


def _match(dialect: str, variants: Sequence[FtsQuery]) -> _Match | None:
    live = [v for v in variants if not v.is_empty]
    if not live:
        return None
    if dialect == "sqlite":
        expressions = [e for e in (fts.sqlite_match_expression(v) for v in live) if e]
        if not expressions:
            return None
        match = expressions[0] if len(expressions) == 1 else " OR ".join(f"({e})" for e in expressions)
        table = fts.FTS_TABLE
        return _Match(
            from_sql=f"{table} CROSS JOIN papers p ON p.id = {table}.rowid",
            where_sql=f"{table} MATCH :match",
            params={"match": match},
        )
    if dialect == "postgresql":
        alternatives: list[str] = []
        params: dict[str, object] = {}
        for index, variant in enumerate(live):
            parts, excluded, variant_params = fts.postgres_parts(variant)
            if not parts:
                continue
            expression = " && ".join(f"({part})" for part in parts)
            if excluded:
                expression = f"({expression}) && !!({' || '.join(excluded)})"
            # Every variant names its parameters q_*; prefix them so the OR-ed variants don't collide.
            alternatives.append(f"({_prefixed(expression, f'v{index}_')})")
            params.update({f"v{index}_{name}": value for name, value in variant_params.items()})
        if not alternatives:
            return None
        where = "p.search_vector @@ (" + " || ".join(alternatives) + ")"
        # Author names must match in the authors (label B), as fts.search requires; variants share them.
        author_parts, _, author_params = fts.postgres_parts(FtsQuery(authors=live[0].authors))
        for part in author_parts:
            where += f" AND ts_filter(p.search_vector, '{{b}}') @@ {_prefixed(part, 'a_')}"
        params.update({f"a_{name}": value for name, value in author_params.items()})
        return _Match(from_sql="papers p", where_sql=where, params=params)
    raise RuntimeError(f"full-text search is not supported on {dialect}")  # pragma: no cover


def _date_clauses(since: dt.datetime | None, until: dt.datetime | None) -> tuple[str, dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    if since is not None:
        clauses.append("p.submitted_at >= :since")
        params["since"] = since
    if until is not None:
        clauses.append("p.submitted_at < :until")
        params["until"] = until
    return "".join(f" AND {c}" for c in clauses), params


def _typed(sql: str, params: dict[str, object]) -> TextClause:
    # Dates go through the column type so SQLite compares them in the stored text format.
    clause = text(sql)
    for name in ("since", "until"):
        if name in params:
            clause = clause.bindparams(bindparam(name, type_=UTCDateTime()))
    return clause


def _month_sql(dialect: str) -> str:
    if dialect == "sqlite":
        return "substr(p.submitted_at, 1, 7)"  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
    # date_trunc costs half of to_char per row; the key is formatted in Python (`_month_key`).
    return "date_trunc('month', p.submitted_at AT TIME ZONE 'UTC')"


def _month_key(value: object) -> str:
    return f"{value:%Y-%m}" if isinstance(value, dt.datetime) else str(value)


def ranked_matches(
    session: Session,
    variants: Sequence[FtsQuery],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    paper_ids: frozenset[int] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[SearchHit]:
    """Best matches of any variant first (ties: newest first), through `fts.search`.

    Several variants (a `topic:` query) are searched one by one and merged by their best score; a
    paper matching several alternatives is listed once. Scores of one engine are comparable across
    variants because they come from the same ranking function.
    """
    filters = SearchFilter(since=since, until=until, paper_ids=paper_ids)
    if len(variants) == 1:
        return fts.search(session, variants[0], filters=filters, limit=limit, offset=offset)
    if limit <= 0:
        return []
    best: dict[int, SearchHit] = {}
    for variant in variants:
        for hit in fts.search(session, variant, filters=filters, limit=offset + limit):
            if hit.paper_id not in best or hit.score > best[hit.paper_id].score:
                best[hit.paper_id] = hit
    ordered = sorted(best.values(), key=lambda hit: (-hit.score, -hit.paper_id))
    return ordered[offset : offset + limit]


def monthly_counts(
    session: Session,
    variants: Sequence[FtsQuery],
    *,
    since: dt.datetime,
    until: dt.datetime,
) -> dict[str, int]:
    """Matching papers per "YYYY-MM" in [since, until): one grouped query over the index."""
    dialect = session.get_bind().dialect.name
    match = _match(dialect, variants)
    if match is None:
        return {}
    extra, params = _date_clauses(since, until)
    params.update(match.params)
    month = _month_sql(dialect)
    if dialect == "postgresql":
        fts.use_custom_plans(session)
        sql = f"SELECT {month} AS m, count(*) FROM papers p WHERE {match.where_sql}{extra} GROUP BY m"
    elif _sqlite_reads_each_match(session, match, extra, params):
        sql = f"SELECT {month} AS m, count(*) FROM {match.from_sql} WHERE {match.where_sql}{extra} GROUP BY m"
    else:
        # Months of the window's papers from the submitted_at index, looked up per match in memory.
        table = fts.FTS_TABLE
        sql = (
            f"WITH in_window(id, m) AS MATERIALIZED (SELECT p.id, {month} FROM papers p WHERE 1 = 1{extra}) "
            f"SELECT w.m, count(*) FROM {table} CROSS JOIN in_window w ON w.id = {table}.rowid "
            f"WHERE {match.where_sql} GROUP BY w.m"
        )
    return {_month_key(row[0]): int(row[1]) for row in session.execute(_typed(sql, params), params)}


def _sqlite_reads_each_match(session: Session, match: _Match, extra: str, params: dict[str, object]) -> bool:
    """Whether reading each match's paper row beats listing the window's papers (SQLite).

    Reading a paper row costs about twice as much as listing a paper from the submitted_at index, so
    a query matching fewer papers (ever) than half the window reads its matches; a common word such
    as "learning" (half the archive) lists the window instead: 25 ms instead of 100 on 100,000 papers.
    """
    table = fts.FTS_TABLE
    matches = session.execute(text(f"SELECT count(*) FROM {table} WHERE {match.where_sql}"), params)
    in_window = session.execute(_typed(f"SELECT count(*) FROM papers p WHERE 1 = 1{extra}", params), params)
    return int(matches.scalar_one()) * 2 <= int(in_window.scalar_one())


def monthly_totals(session: Session, *, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """All papers per "YYYY-MM" in [since, until)."""
    dialect = session.get_bind().dialect.name
    extra, params = _date_clauses(since, until)
    month = _month_sql(dialect)
    sql = f"SELECT {month} AS m, count(*) FROM papers p WHERE 1 = 1{extra} GROUP BY m"
    return {_month_key(row[0]): int(row[1]) for row in session.execute(_typed(sql, params), params)}


def count_matches(
    session: Session,
    variants: Sequence[FtsQuery],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> int:
    match = _match(session.get_bind().dialect.name, variants)
    if match is None:
        return 0
    extra, params = _date_clauses(since, until)
    params.update(match.params)
    sql = f"SELECT count(*) FROM {match.from_sql} WHERE {match.where_sql}{extra}"
    return int(session.execute(_typed(sql, params), params).scalar_one())
