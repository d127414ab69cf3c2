"""Paper repository: store harvested papers idempotently and read them back by month or id.

One row per base arXiv id. `upsert_many` uses the dialect's `INSERT … ON CONFLICT (arxiv_id) DO UPDATE
… WHERE <incoming is newer>` on SQLite and PostgreSQL alike, so storing the same page twice, or an
older version after a newer one, changes nothing, and concurrent harvests cannot overwrite a newer
version with an older one. A paper cross-listed in several harvested categories is still one row.
Every record passes `clean_record` first: whoever calls, nothing too wide or undecodable reaches
the table, and a record that cannot be stored at all is left out with a logged reason.

Like every repository it never commits: the caller's unit of work does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.arxiv_ids import abs_url, parse_arxiv_id, pdf_url
from bot.db.fts import FTS_TABLE, SQLITE_TRIGGER_NAMES, SQLITE_TRIGGERS
from bot.db.models import Paper
from bot.errors import ValidationError
from bot.months import Month
from bot.paper_links import extract_links
from bot.paper_records import PaperRecord, UnusableRecord, clean_record

log = logging.getLogger(__name__)

# Rows per INSERT statement: ~20 bound parameters each stays well under SQLite's 32,766 limit.
UPSERT_CHUNK = 500
MAX_LIST_LIMIT = 1000

# Columns an update may change; id, arxiv_id and harvested_at stay as first stored.
_UPDATABLE = (
    "version",
    "title",
    "abstract",
    "authors",
    "authors_text",
    "categories",
    "primary_category",
    "submitted_at",
    "updated_at",
    "comment",
    "journal_ref",
    "doi",
    "abs_url",
    "pdf_url",
    "code_url",
    "project_url",
    "refreshed_at",
)


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def newest_per_paper(records: Iterable[PaperRecord]) -> list[PaperRecord]:
    """One record per base id (the newest), in first-seen order: cross-lists and repeats collapse."""
    newest: dict[str, PaperRecord] = {}
    for record in records:
        seen = newest.get(record.arxiv_id)
        if seen is None or record.is_newer_than(seen):
            newest[record.arxiv_id] = record
    return list(newest.values())


def storable(records: Iterable[PaperRecord]) -> Iterator[PaperRecord]:
    """`records` cleaned for storage (`clean_record`); unusable ones are logged and left out."""
    for record in records:
        try:
            yield clean_record(record)
        except UnusableRecord as exc:
            log.warning("Not storing an arXiv record: %s", exc)


def _row(record: PaperRecord, now: dt.datetime) -> dict[str, Any]:
    links = extract_links(record.comment, record.abstract)
    return {
        "arxiv_id": record.arxiv_id,
        "version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "authors": list(record.authors),
        "authors_text": " ".join(record.authors),
        "categories": list(record.categories),
        "primary_category": record.primary_category,
        "submitted_at": record.submitted_at,
        "updated_at": record.updated_at,
        "announced_on": None,
        "comment": record.comment,
        "journal_ref": record.journal_ref,
        "doi": record.doi[:255] if record.doi else None,
        "abs_url": abs_url(record.arxiv_id),
        "pdf_url": pdf_url(record.arxiv_id),
        "code_url": links.code_url,
        "project_url": links.project_url,
        "harvested_at": now,
        "refreshed_at": now,
    }


def _upsert_statement(dialect: str) -> Any:
    """One cached statement executed with many parameter sets (SQLAlchemy's "insertmanyvalues"
    batches them into multi-row INSERTs without compiling a new statement per batch)."""
    table = cast(Table, Paper.__table__)
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - only the two supported engines exist
        raise RuntimeError(f"upsert is not supported on {dialect}")
    incoming = stmt.excluded
    newer = or_(
        incoming.version > table.c.version,
        and_(incoming.version == table.c.version, incoming.updated_at > table.c.updated_at),
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.arxiv_id],
        set_={name: incoming[name] for name in _UPDATABLE},
        where=newer,
    ).returning(table.c.arxiv_id)


def upsert_many(session: Session, records: Iterable[PaperRecord]) -> UpsertCounts:
    """Insert new papers and update stored ones when the incoming version is newer.

    Newest wins: a higher version replaces a lower one; the same version replaces it only when its
    `updated_at` is later. Anything else leaves the row untouched and counts as unchanged.
    """
    unique = newest_per_paper(storable(records))
    if not unique:
        return UpsertCounts()
    dialect = session.get_bind().dialect.name
    now = dt.datetime.now(dt.UTC)
    inserted = updated = 0
    for offset in range(0, len(unique), UPSERT_CHUNK):
        chunk = unique[offset : offset + UPSERT_CHUNK]
        stored = {
            arxiv_id: (version, updated_at)
            for arxiv_id, version, updated_at in session.execute(
                select(Paper.arxiv_id, Paper.version, Paper.updated_at).where(
                    Paper.arxiv_id.in_([record.arxiv_id for record in chunk])
                )
            )
        }
        # Rows that cannot win are not even sent: re-harvests are mostly unchanged papers, and the
        # database would compute their full-text vectors before discarding them. The statement's own
        # WHERE still guards against a concurrent writer that stored something newer meanwhile.
        candidates = [
            record
            for record in chunk
            if record.arxiv_id not in stored or (record.version, record.updated_at) > stored[record.arxiv_id]
        ]
        if not candidates:
            continue
        rows = [_row(record, now) for record in candidates]
        written = set(session.scalars(_upsert_statement(dialect), rows))
        inserted += len(written - stored.keys())
        updated += len(written & stored.keys())
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=len(unique) - inserted - updated)


_BULK_COLUMNS = (
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "authors",
    "authors_text",
    "categories",
    "primary_category",
    "submitted_at",
    "updated_at",
    "announced_on",
    "comment",
    "journal_ref",
    "doi",
    "abs_url",
    "pdf_url",
    "code_url",
    "project_url",
    "harvested_at",
    "refreshed_at",
)
# From this many new papers in one call on, SQLite indexes them in one statement (see below).
SQLITE_BULK_FTS_MIN = 200
SQLITE_BULK_CACHE_KIB = 64 * 1024
SQLITE_INSERT_TRIGGER = SQLITE_TRIGGER_NAMES[0]
_JSON_COLUMNS = frozenset({"authors", "categories"})
# Ids per `IN (...)` lookup of stored versions: within every driver's parameter limit.
_LOOKUP_CHUNK = 1000


def _bulk_sql(dialect: str) -> str:
    """INSERT … ON CONFLICT DO UPDATE … WHERE newer, as driver SQL (the same guard as `upsert_many`)."""
    if dialect == "sqlite":
        values = ", ".join("?" for _ in _BULK_COLUMNS)
    elif dialect == "postgresql":
        values = ", ".join("CAST(%s AS jsonb)" if c in _JSON_COLUMNS else "%s" for c in _BULK_COLUMNS)
    else:  # pragma: no cover - only the two supported engines exist
        raise RuntimeError(f"bulk upsert is not supported on {dialect}")
    updates = ", ".join(f"{name} = excluded.{name}" for name in _UPDATABLE)
    return (
        f"INSERT INTO papers ({', '.join(_BULK_COLUMNS)}) VALUES ({values}) "
        f"ON CONFLICT (arxiv_id) DO UPDATE SET {updates} "
        "WHERE excluded.version > papers.version "
        "OR (excluded.version = papers.version AND excluded.updated_at > papers.updated_at)"
    )


def _sqlite_time(moment: dt.datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime stores (UTCDateTime converts to UTC first), so rows written
    # here sort and compare exactly like rows written through the ORM. isoformat is the fast way there.
    if moment.utcoffset():
        moment = moment.astimezone(dt.UTC)
    return moment.isoformat(" ", "microseconds")[:26]


def _bulk_params(record: PaperRecord, sqlite_dialect: bool) -> tuple[Any, ...]:
    """The statement's parameters for `record`, all but the last two (harvested_at, refreshed_at: the
    storing transaction's own moment, appended when stored)."""
    links = extract_links(record.comment, record.abstract)
    # orjson writes non-ASCII as UTF-8 where json.dumps escapes it: the same JSON value when read.
    authors = orjson.dumps(record.authors).decode()
    categories = orjson.dumps(record.categories).decode()
    submitted, updated = record.submitted_at, record.updated_at
    if sqlite_dialect:
        submitted, updated = _sqlite_time(submitted), _sqlite_time(updated)  # type: ignore[assignment]
    return (
        record.arxiv_id,
        record.version,
        record.title,
        record.abstract,
        authors,
        " ".join(record.authors),
        categories,
        record.primary_category,
        submitted,
        updated,
        None,
        record.comment,
        record.journal_ref,
        record.doi[:255] if record.doi else None,
        abs_url(record.arxiv_id),
        pdf_url(record.arxiv_id),
        links.code_url,
        links.project_url,
    )


@dataclass(frozen=True, slots=True)
class BulkRows:
    """Papers already turned into `bulk_upsert`'s statement parameters, one per base id (the newest).

    Built by `bulk_rows` wherever it is cheapest (the bulk importer builds them in its reading process,
    so the storing process only binds and inserts), stored by `bulk_upsert_rows`. Plain tuples of
    strings, numbers and datetimes: cheap to pickle.
    """

    dialect: str
    keys: list[tuple[str, int, dt.datetime]]  # (arxiv_id, version, updated_at) of each row
    params: list[tuple[Any, ...]]  # `_bulk_params` of each row, in the same order

    def __len__(self) -> int:
        return len(self.keys)


def bulk_rows(records: Iterable[PaperRecord], dialect: str) -> BulkRows:
    """The newest of `records` per base id as parameters for `dialect` ("sqlite" or "postgresql").

    Every record must already have come out of `clean_record` (as the bulk importer's do).
    """
    if dialect not in ("sqlite", "postgresql"):
        raise RuntimeError(f"bulk upsert is not supported on {dialect}")
    is_sqlite = dialect == "sqlite"
    unique = newest_per_paper(records)
    return BulkRows(
        dialect,
        [(r.arxiv_id, r.version, r.updated_at) for r in unique],
        [_bulk_params(r, is_sqlite) for r in unique],
    )


def bulk_upsert(session: Session, records: Iterable[PaperRecord], *, cleaned: bool = False) -> UpsertCounts:
    """`upsert_many` for thousands of papers at a time: same rules, a fraction of the cost.

    Stored versions are looked up in chunks, papers that cannot win are dropped (as in `upsert_many`),
    and the rest go to the database as one prepared statement executed for many parameter sets through
    the driver, without per-row ORM type processing. The statement keeps the newer-version guard, so a
    concurrent writer's newer row is never overwritten; counts assume no such writer (a paper that a
    concurrent harvest made newer in the meantime counts as updated).

    `cleaned=True` says every record already came out of `clean_record` (the bulk importer's do):
    checking them again would cost a tenth of an import's time for nothing.
    """
    unique = newest_per_paper(records if cleaned else storable(records))
    if not unique:
        return UpsertCounts()
    dialect = session.get_bind().dialect.name
    is_sqlite = dialect == "sqlite"
    keys = [(r.arxiv_id, r.version, r.updated_at) for r in unique]
    # Only the rows that can win are built: a re-import is mostly unchanged papers.
    return _store_bulk(session, dialect, keys, lambda index: _bulk_params(unique[index], is_sqlite))


def bulk_upsert_rows(session: Session, rows: BulkRows) -> UpsertCounts:
    """`bulk_upsert` of rows built ahead by `bulk_rows` (for this session's database)."""
    if not rows.keys:
        return UpsertCounts()
    dialect = session.get_bind().dialect.name
    if rows.dialect != dialect:
        raise RuntimeError(f"rows built for {rows.dialect} cannot be stored in {dialect}")
    return _store_bulk(session, dialect, rows.keys, rows.params.__getitem__)


def _store_bulk(
    session: Session,
    dialect: str,
    keys: Sequence[tuple[str, int, dt.datetime]],
    params_of: Callable[[int], tuple[Any, ...]],
) -> UpsertCounts:
    """Store the rows of `keys` (one per base id) that are newer than what is stored; see `bulk_upsert`."""
    is_sqlite = dialect == "sqlite"
    if is_sqlite:
        raw = session.connection().connection.driver_connection
        if raw is not None and not raw.in_transaction:
            # A bigger page cache for this connection (SQLite's default is 2 MB) saves ~20% on big
            # batches: the id index and the FTS segments are written all over.
            session.connection().exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}")
            # Take the write lock before reading what is stored, so the counts are this batch's own
            # (pysqlite would begin only at the first write, after the lookups).
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    stored: dict[str, tuple[int, dt.datetime]] = {}
    for offset in range(0, len(keys), _LOOKUP_CHUNK):
        ids = [key[0] for key in keys[offset : offset + _LOOKUP_CHUNK]]
        for arxiv_id, version, updated_at in session.execute(
            select(Paper.arxiv_id, Paper.version, Paper.updated_at).where(Paper.arxiv_id.in_(ids))
        ):
            stored[arxiv_id] = (version, updated_at)
    now_moment = dt.datetime.now(dt.UTC)
    now: Any = _sqlite_time(now_moment) if is_sqlite else now_moment
    moments = (now, now)
    newer: list[tuple[Any, ...]] = []
    new: list[tuple[Any, ...]] = []
    for index, (arxiv_id, version, updated_at) in enumerate(keys):
        seen = stored.get(arxiv_id)
        if seen is None:
            new.append(params_of(index) + moments)
        elif (version, updated_at) > seen:
            newer.append(params_of(index) + moments)
    sql = _bulk_sql(dialect)
    connection = session.connection()
    if newer:
        connection.exec_driver_sql(sql, newer)
    if new and is_sqlite and len(new) >= SQLITE_BULK_FTS_MIN:
        _sqlite_insert_then_index(connection, sql, new)
    elif new:
        connection.exec_driver_sql(sql, new)
    return UpsertCounts(inserted=len(new), updated=len(newer), unchanged=len(keys) - len(new) - len(newer))


def _sqlite_insert_then_index(connection: Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
    """Insert many new papers with the FTS insert trigger set aside, then index them in one statement.

    FTS5 indexes rows several times faster from one `INSERT … SELECT` than one trigger call per row
    (docs/benchmarks.md). The trigger is dropped and re-created inside the caller's transaction, so
    every other connection sees it throughout, the write lock is held from the drop on, and a
    rollback restores it; the ids above the previous maximum are exactly this statement's new rows.
    """
    raw = connection.connection.driver_connection
    if raw is None or not raw.in_transaction:  # pragma: no cover - bulk_upsert began it
        raise RuntimeError("the FTS trigger may only be set aside inside a transaction")
    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {SQLITE_INSERT_TRIGGER}")
    floor = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM papers").scalar()
    connection.exec_driver_sql(sql, params)
    connection.exec_driver_sql(
        f"INSERT INTO {FTS_TABLE}(rowid, title, abstract, authors_text) "
        "SELECT id, title, abstract, authors_text FROM papers WHERE id > ?",
        (floor,),
    )
    connection.exec_driver_sql(SQLITE_TRIGGERS[0])


def _month_filter(month: Month) -> Any:
    return and_(Paper.submitted_at >= month.start, Paper.submitted_at < month.end)


def count_month(session: Session, month: Month) -> int:
    """Papers submitted in `month` (UTC)."""
    return int(session.scalar(select(func.count()).select_from(Paper).where(_month_filter(month))) or 0)


def list_month(session: Session, month: Month, limit: int = 20, offset: int = 0) -> Sequence[Paper]:
    """Papers submitted in `month`, oldest first (ties by id), a page at a time."""
    if limit < 0 or offset < 0:
        raise ValidationError("limit and offset must not be negative.")
    limit = min(limit, MAX_LIST_LIMIT)
    return session.scalars(
        select(Paper)
        .where(_month_filter(month))
        .order_by(Paper.submitted_at, Paper.arxiv_id)
        .limit(limit)
        .offset(offset)
    ).all()


def get_by_arxiv_id(session: Session, arxiv_id: str) -> Paper | None:
    """The stored paper for an id in any accepted form (`2410.01234v2`, an abs URL); None if absent."""
    base = parse_arxiv_id(arxiv_id).base
    return session.scalars(select(Paper).where(Paper.arxiv_id == base)).one_or_none()
