"""Bulk import: stream papers from a JSON-lines file into the database, in constant memory.

Two formats, recognised per file from its first JSON object:

- **arXiv's metadata snapshot** (`arxiv-metadata-oai-snapshot.json`, the file arXiv publishes for bulk
  access): `id`, `title`, `abstract`, `authors` / `authors_parsed`, `categories` (space-separated, the
  primary first), `versions` ([{`version`, `created`}]), `comments`, `journal-ref`, `doi`. A paper's
  `submitted_at` is when its v1 was created, `updated_at` when its newest version was, and its version
  is the number of the newest one.
- **the pool format** of the benchmark months: `id`, `title`, `abstract`, `authors` (list), `categories`
  (list), `primary`, `date` (the submission day), optionally `signals` ({"huggingface.upvotes": n}).

Plain or gzipped (recognised by its magic bytes, not its name). Lines are read one at a time and stored
in batches; a batch is one unit of work, so a failure leaves no half-stored batch: the batches before
it stay stored, and running the import again completes it (storing is idempotent: by base arXiv id,
newest version wins, unchanged papers are not written).

A big file is read, parsed and turned into statement rows by one child process while this process
binds and inserts the previous batch (parsing and row building hold the GIL, so threads could not
overlap them with storing). Batches cross a pipe one at a time, so memory stays flat; the child's log
lines are re-logged here. The result is the same as reading in this process (`processes=0`), which
small files do: starting a process costs more than it saves there (docs/benchmarks.md).

A line that is not JSON, lacks a field, has an unreadable id or date, or names a category arXiv does not
have is skipped: counted by reason, its line number logged (`ImportResult.skipped_lines` keeps the
first few of each reason); so is invalid UTF-8 (a lone surrogate escape included: "not JSON"). Text
that can be stored once cleaned is cleaned (`bot.paper_records.clean_record`: control characters
removed, over-long titles and abstracts cut, with a logged line). Papers outside the filters
(`ImportFilter`) are counted as filtered.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import logging
import math
import multiprocessing
import pickle
import signal
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson
from sqlalchemy.orm import Session

from bot.arxiv_categories import is_known_category
from bot.arxiv_ids import parse_arxiv_id
from bot.db.papers import BulkRows, UpsertCounts, bulk_rows, bulk_upsert, bulk_upsert_rows
from bot.db.uow import UnitOfWork
from bot.errors import NotFoundError, SourceError, TrendsError, ValidationError
from bot.months import Month
from bot.paper_records import PaperRecord, UnusableRecord, clean_record, is_author_name
from bot.signals.store import record_imported_signals

log = logging.getLogger(__name__)

SNAPSHOT = "arxiv-snapshot"
POOL = "pool"
FORMAT_NAMES = {SNAPSHOT: "arXiv metadata snapshot", POOL: "pool (one paper a line)"}

DEFAULT_BATCH_SIZE = 5000
# Line numbers kept per skip reason for the summary, and skipped lines logged one by one: a file that
# is wrong everywhere should not flood the log with millions of warnings.
KEPT_LINE_NUMBERS = 5
LOGGED_SKIPS = 200

# Skip reasons, as the summary shows them.
NOT_JSON = "not JSON"
NOT_OBJECT = "not a JSON object"
MISSING_FIELD = "missing field"
BAD_FIELD = "malformed field"
BAD_ID = "unreadable arXiv id"
BAD_DATE = "unreadable date"
UNKNOWN_CATEGORY = "unknown category"

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


class ImportBatchError(TrendsError):
    """A batch could not be stored: it was rolled back; the batches before it stay stored."""


class _Skip(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ImportFilter:
    """Which papers of the file to store: any of `categories`, first version submitted in the days."""

    categories: frozenset[str] | None = None
    first_day: dt.date | None = None  # included
    last_day: dt.date | None = None  # included

    def __post_init__(self) -> None:
        if self.categories is not None:
            unknown = sorted(c for c in self.categories if not is_known_category(c))
            if unknown:
                shown = ", ".join(repr(c[:40]) for c in unknown[:5])
                raise ValidationError(f"Not arXiv categories: {shown} (expected e.g. cs.LG or stat.ML).")
            if not self.categories:
                raise ValidationError("--categories is empty: list arXiv categories like cs.LG,cs.CL.")
        if self.first_day and self.last_day and self.first_day > self.last_day:
            raise ValidationError(f"--from {self.first_day} is after --to {self.last_day}.")

    def accepts(self, record: PaperRecord) -> bool:
        if self.categories is not None and self.categories.isdisjoint(record.categories):
            return False
        day = record.submitted_at.date()
        if self.first_day is not None and day < self.first_day:
            return False
        return self.last_day is None or day <= self.last_day


@dataclass
class ImportResult:
    path: Path
    format: str | None = None
    lines: int = 0  # non-blank lines read
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    filtered: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_lines: dict[str, list[int]] = field(default_factory=dict)
    months: Counter[str] = field(default_factory=Counter)  # "YYYY-MM" of every paper accepted
    signals: int = 0  # signal readings stored from pool lines
    batches: int = 0
    seconds: float = 0.0

    @property
    def accepted(self) -> int:
        """Papers that passed parsing and the filters (stored, updated or unchanged)."""
        return self.counts.total

    @property
    def busiest_month(self) -> Month | None:
        if not self.months:
            return None
        # Most papers; ties go to the later month (the fresher digest).
        label = max(self.months.items(), key=lambda item: (item[1], item[0]))[0]
        return Month.parse(label)


class ImportProgress(Protocol):
    """What an import reports after each batch (the CLI draws a bar)."""

    def batch_stored(self, result: ImportResult, bytes_read: int, bytes_total: int) -> None: ...


@dataclass(frozen=True, slots=True)
class _Item:
    record: PaperRecord
    line: int
    signals: Mapping[str, float] | None


# -- reading ----------------------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """A raw file that remembers how many bytes were read (compressed ones, for a gzipped file)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self.position += count or 0
        return int(count or 0)


@contextmanager
def _open_lines(path: Path) -> Iterator[tuple[Iterator[bytes], _CountingReader, int]]:
    if not path.is_file():
        raise NotFoundError(f"{path} does not exist (give the path of a JSON-lines file).")
    try:
        size = path.stat().st_size
        with path.open("rb") as raw:
            counter = _CountingReader(raw)
            buffered = io.BufferedReader(counter, buffer_size=1 << 20)
            magic = buffered.peek(2)[:2]
            stream: BinaryIO = gzip.GzipFile(fileobj=buffered) if magic == b"\x1f\x8b" else buffered  # type: ignore[assignment]
            yield iter(stream), counter, size
    except (OSError, EOFError) as exc:
        raise SourceError(f"{path} could not be read: {exc}") from None


def _detect(row: Mapping[str, Any]) -> str | None:
    if isinstance(row.get("categories"), str) or "versions" in row or "authors_parsed" in row:
        return SNAPSHOT
    if isinstance(row.get("categories"), list) or "primary" in row or "date" in row:
        return POOL
    return None


# -- parsing ----------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    """Runs of whitespace become one space (the snapshot wraps titles and abstracts at ~80 columns)."""
    # Most lines only wrap: replacing newlines is a fast scan, the general split-and-join is not.
    if "\x00" in text:  # JSON can carry NUL characters; PostgreSQL text cannot
        text = text.replace("\x00", "")
    flat = text.replace("\n", " ").strip()
    if "  " in flat or "\t" in flat or "\r" in flat:
        return " ".join(flat.split())
    return flat


def _required_text(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    if value is None:
        raise _Skip(MISSING_FIELD, f"no `{name}`")
    if not isinstance(value, str):
        raise _Skip(BAD_FIELD, f"`{name}` is not a string")
    return value


def _optional_text(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if isinstance(value, str):
        return _squash(value) or None
    return None


def _base_id(row: Mapping[str, Any]) -> tuple[str, int | None]:
    text = _required_text(row, "id")
    try:
        parsed = parse_arxiv_id(text)
    except ValidationError as exc:
        raise _Skip(BAD_ID, f"`id`: {exc}") from None
    return parsed.base, parsed.version


def _checked_categories(names: list[str]) -> tuple[str, ...]:
    if not names:
        raise _Skip(MISSING_FIELD, "no categories")
    unique = tuple(dict.fromkeys(names))
    for name in unique:
        if not is_known_category(name):
            raise _Skip(UNKNOWN_CATEGORY, f"category {name[:40]!r} is not an arXiv category")
    return unique


def _snapshot_time(text: object) -> dt.datetime:
    """`Mon, 2 Apr 2007 19:18:42 GMT` (RFC 2822, always GMT in the snapshot) as an aware datetime."""
    try:
        _weekday, day, month, year, clock, _zone = str(text).split()
        hour, minute, second = clock.split(":")
        return dt.datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=dt.UTC
        )
    except (ValueError, KeyError):
        raise _Skip(
            BAD_DATE, f"version date {str(text)[:40]!r} is not like 'Mon, 2 Apr 2007 19:18:42 GMT'"
        ) from None


def _snapshot_authors(row: Mapping[str, Any]) -> tuple[str, ...]:
    parsed = row.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names: list[str] = []
        try:
            for parts in parsed:
                if type(parts) is not list:
                    raise TypeError
                # [last, first, suffix]; join refuses anything but strings.
                name = " ".join(" ".join((*parts[1:2], *parts[0:1], *parts[2:3])).split())
                if is_author_name(name):
                    names.append(name)
        except TypeError:
            raise _Skip(BAD_FIELD, "`authors_parsed` is not a list of [last, first, suffix]") from None
        return tuple(names)
    text = row.get("authors")
    if text is None:
        raise _Skip(MISSING_FIELD, "no `authors` or `authors_parsed`")
    if not isinstance(text, str):
        raise _Skip(BAD_FIELD, "`authors` is not a string")
    flat = _squash(text).replace(" and ", ", ")
    return tuple(name for part in flat.split(",") if is_author_name(name := part.strip()))


def parse_snapshot_row(row: Mapping[str, Any]) -> PaperRecord:
    """A `PaperRecord` from one object of arXiv's metadata snapshot; raises `_Skip` if unusable."""
    base, _ = _base_id(row)
    title = _squash(_required_text(row, "title"))
    abstract = _squash(_required_text(row, "abstract"))
    categories_text = _required_text(row, "categories")
    categories = _checked_categories(categories_text.split())
    versions = row.get("versions")
    if versions is None:
        raise _Skip(MISSING_FIELD, "no `versions`")
    if not isinstance(versions, list) or not versions or not all(isinstance(v, dict) for v in versions):
        raise _Skip(BAD_FIELD, "`versions` is not a list of {version, created}")
    numbered: list[tuple[int, dt.datetime]] = []
    for entry in versions:
        label = entry.get("version")
        if not isinstance(label, str) or not label.startswith("v") or not label[1:].isdigit():
            raise _Skip(BAD_FIELD, f"version {str(label)[:20]!r} is not like 'v2'")
        numbered.append((int(label[1:]), _snapshot_time(entry.get("created"))))
    numbered.sort()
    first_version, submitted_at = numbered[0]
    version, updated_at = numbered[-1]
    if first_version < 1:
        raise _Skip(BAD_FIELD, "versions start below v1")
    return _cleaned(
        PaperRecord(
            arxiv_id=base,
            version=version,
            title=title,
            abstract=abstract,
            authors=_snapshot_authors(row),
            categories=categories,
            primary_category=categories[0],
            submitted_at=submitted_at,
            updated_at=max(updated_at, submitted_at),
            comment=_optional_text(row, "comments"),
            journal_ref=_optional_text(row, "journal-ref"),
            doi=_optional_text(row, "doi"),
        )
    )


def _cleaned(record: PaperRecord) -> PaperRecord:
    try:
        return clean_record(record)
    except UnusableRecord as exc:
        raise _Skip(BAD_FIELD, str(exc)) from None


def _string_list(row: Mapping[str, Any], name: str) -> list[str]:
    value = row.get(name)
    if value is None:
        raise _Skip(MISSING_FIELD, f"no `{name}`")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Skip(BAD_FIELD, f"`{name}` is not a list of strings")
    return value


def _pool_date(row: Mapping[str, Any]) -> dt.datetime:
    text = _required_text(row, "date")
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Skip(BAD_DATE, f"`date` {text[:40]!r} is not an ISO date") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def parse_pool_row(row: Mapping[str, Any]) -> tuple[PaperRecord, dict[str, float] | None]:
    """A `PaperRecord` (and its `signals`, if any) from one pool line; raises `_Skip` if unusable."""
    base, version = _base_id(row)
    title = _squash(_required_text(row, "title"))
    abstract = _squash(_required_text(row, "abstract"))
    authors = tuple(name for a in _string_list(row, "authors") if is_author_name(name := _squash(a)))
    categories = _checked_categories(_string_list(row, "categories"))
    primary = row.get("primary")
    if primary is not None and not isinstance(primary, str):
        raise _Skip(BAD_FIELD, "`primary` is not a string")
    primary = primary or categories[0]
    if not is_known_category(primary):
        raise _Skip(UNKNOWN_CATEGORY, f"category {primary[:40]!r} is not an arXiv category")
    if primary not in categories:
        categories = (primary, *categories)
    submitted_at = _pool_date(row)
    signals = row.get("signals")
    readings: dict[str, float] | None = None
    if isinstance(signals, dict):
        readings = {
            str(key): float(value)
            for key, value in signals.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        }
    record = _cleaned(
        PaperRecord(
            arxiv_id=base,
            version=version or 1,
            title=title,
            abstract=abstract,
            authors=authors,
            categories=categories,
            primary_category=primary,
            submitted_at=submitted_at,
            updated_at=submitted_at,
            comment=_optional_text(row, "comment"),
            journal_ref=_optional_text(row, "journal_ref"),
            doi=_optional_text(row, "doi"),
        )
    )
    return record, readings or None


# -- importing --------------------------------------------------------------------------------------

# (session, {arxiv id: {"huggingface.upvotes": n}}, observed at) -> readings stored.
SignalWriter = Callable[[Session, Mapping[str, Mapping[str, float]], dt.datetime], int]

# Files from this size on are read and parsed in a child process (`BulkImporter(processes=None)`).
# Starting one costs ~6 ms (fork) to ~0.35 s (spawn, which imports the bot again); below about two
# batches there is little to overlap (docs/benchmarks.md).
CHILD_MIN_BYTES = 16 * 1024 * 1024
# How long a stopping reading process gets before it is killed.
CHILD_STOP_SECONDS = 5.0


class ImportReaderError(TrendsError):
    """The process reading the file stopped unexpectedly; the batches stored before stay stored."""


@dataclass(slots=True)
class _Batch:
    """One unit of work for the storing side, and the reader's tallies of every line read so far.

    `records` when read in this process; `rows` (statement parameters built by `bulk_rows`) when read
    in a child process, so the parent only binds and inserts. `full` is False for the last batch.
    """

    records: list[PaperRecord] | None
    rows: BulkRows | None
    papers: int
    first_line: int
    last_line: int
    signals: dict[str, Mapping[str, float]]
    tally: ImportResult
    bytes_read: int
    full: bool
    log_records: list[tuple[str, int, str]] = field(default_factory=list)  # forwarded by a child


def _tally_snapshot(tally: ImportResult) -> ImportResult:
    """The reader's counts so far, copied (the reader keeps counting while the batch is stored)."""
    return ImportResult(
        path=tally.path,
        format=tally.format,
        lines=tally.lines,
        filtered=tally.filtered,
        skipped=Counter(tally.skipped),
        skipped_lines={reason: list(lines) for reason, lines in tally.skipped_lines.items()},
        months=Counter(tally.months),
    )


def _read_batches(
    path: Path, filters: ImportFilter, batch_size: int, dialect: str | None
) -> Iterator[_Batch]:
    """The batches of `path`: parsed, filtered, counted; as statement rows for `dialect` if given.

    The last batch (`full=False`, perhaps without papers) carries the final tallies. A file cut short
    yields what was read before the break, then raises `SourceError`.
    """
    tally = ImportResult(path=path)
    items: list[_Item] = []

    def batch(bytes_read: int, full: bool) -> _Batch:
        records = [item.record for item in items]
        first, last = (items[0].line, items[-1].line) if items else (0, 0)
        return _Batch(
            records=None if dialect else records,
            rows=bulk_rows(records, dialect) if dialect else None,
            papers=len(items),
            first_line=first,
            last_line=last,
            signals={item.record.arxiv_id: item.signals for item in items if item.signals},
            tally=_tally_snapshot(tally),
            bytes_read=bytes_read,
            full=full,
        )

    with _open_lines(path) as (lines, counter, size):
        try:
            for number, line in enumerate(lines, start=1):
                item = _parse(line, number, tally)
                if item is None:
                    continue
                if not filters.accepts(item.record):
                    tally.filtered += 1
                    continue
                tally.months[f"{item.record.submitted_at:%Y-%m}"] += 1
                items.append(item)
                if len(items) >= batch_size:
                    yield batch(counter.position, True)
                    items = []
        except (gzip.BadGzipFile, EOFError, OSError) as exc:
            # A file cut short (an interrupted download): keep everything read before the break.
            yield batch(counter.position, False)
            raise SourceError(
                f"{path} could not be read past line {tally.lines}: {exc}. The papers before "
                "are stored; fix or download the file again and import it again to complete."
            ) from None
        yield batch(size, False)


def _parse(line: bytes, number: int, result: ImportResult) -> _Item | None:
    if not line.strip():
        return None
    result.lines += 1
    try:
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:  # also invalid UTF-8
            raise _Skip(NOT_JSON, str(exc)[:80]) from None
        if not isinstance(row, dict):
            raise _Skip(NOT_OBJECT, f"a JSON {type(row).__name__}")
        if result.format is None:
            detected = _detect(row)
            if detected is None:
                raise ValidationError(
                    f"{result.path}: line {number} is neither an arXiv metadata snapshot record "
                    "(id, title, abstract, categories, versions) nor a pool line (id, title, "
                    "abstract, authors, categories, date)."
                )
            result.format = detected
            log.info("%s: reading it as %s", result.path, FORMAT_NAMES[detected])
        if result.format == SNAPSHOT:
            return _Item(parse_snapshot_row(row), number, None)
        record, signals = parse_pool_row(row)
        return _Item(record, number, signals)
    except _Skip as skip:
        result.skipped[skip.reason] += 1
        kept = result.skipped_lines.setdefault(skip.reason, [])
        if len(kept) < KEPT_LINE_NUMBERS:
            kept.append(number)
        total = sum(result.skipped.values())
        if total <= LOGGED_SKIPS:
            log.warning("%s: skipping line %d (%s: %s)", result.path.name, number, skip.reason, skip)
            if total == LOGGED_SKIPS:
                log.warning("%s: further skipped lines are counted but not logged", result.path.name)
        return None


# -- the reading process ----------------------------------------------------------------------------


class _ForwardedLogs(logging.Handler):
    """Keeps a child's log records (the skipped lines, cleaned papers) to send with the next batch."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        self.kept.append((record.name, record.levelno, message))


@dataclass(frozen=True, slots=True)
class _ChildFailure:
    """The exception that ended the reading child, and its traceback unless it is a `TrendsError`."""

    error: Exception
    trace: str


def _read_in_child(
    sending: Connection,
    receiving: Connection,
    path: Path,
    filters: ImportFilter,
    batch_size: int,
    dialect: str,
    log_level: int,
) -> None:
    """The child's work: read `path`, send each batch to the parent, then None (or the exception)."""
    # Ctrl-C reaches the whole process group: the parent decides, and stops this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent's reading end, inherited by a fork: closed, so a vanished parent means a broken pipe.
    receiving.close()
    forwarded = _ForwardedLogs()
    root = logging.getLogger()
    root.handlers = [forwarded]
    root.setLevel(log_level)
    try:
        for batch in _read_batches(path, filters, batch_size, dialect):
            batch.log_records, forwarded.kept = forwarded.kept, []
            sending.send(batch)
        sending.send(None)
    except BrokenPipeError:
        return  # the parent stopped listening (it failed or was interrupted): nothing to tell
    except Exception as exc:  # the parent raises it, as if it had read the file itself
        failure = _ChildFailure(exc, "" if isinstance(exc, TrendsError) else traceback.format_exc())
        try:
            # Some exceptions pickle but cannot be rebuilt; these bytes are our own.
            pickle.loads(pickle.dumps(failure))  # noqa: S301
        except Exception:
            failure = _ChildFailure(
                ImportReaderError(f"Reading {path.name} failed: {type(exc).__name__}: {exc}"), failure.trace
            )
        sending.send(failure)
    finally:
        sending.close()


@contextmanager
def _batches_from_child(
    context: BaseContext, path: Path, filters: ImportFilter, batch_size: int, dialect: str
) -> Iterator[Iterator[_Batch]]:
    """The batches of `path`, read, parsed and built into rows by a child process.

    The pipe holds at most the batch being sent: the child waits while the parent stores, so memory
    stays flat. Leaving the block (done, failed or interrupted) stops and reaps the child.
    """
    receiving, sending = context.Pipe(duplex=False)
    # typeshed's BaseContext lacks Process; every concrete context (fork, spawn, forkserver) has it.
    process: BaseProcess = context.Process(  # type: ignore[attr-defined]
        target=_read_in_child,
        args=(
            sending,
            receiving,
            path,
            filters,
            batch_size,
            dialect,
            logging.getLogger().getEffectiveLevel(),
        ),
        name="trends-import-reader",
        daemon=True,
    )
    process.start()
    sending.close()  # only the child writes: its exit must end the stream
    log.debug("%s: reading in process %d", path.name, process.pid)

    finished = False

    def receive() -> Iterator[_Batch]:
        nonlocal finished
        last_line = 0
        while True:
            try:
                message = receiving.recv()
            except (EOFError, OSError):
                process.join(CHILD_STOP_SECONDS)
                code = process.exitcode
                how = (
                    f"killed by signal {-code}"
                    if code is not None and code < 0
                    else f"exit code {code}"
                    if code is not None
                    else "no longer answering"
                )
                raise ImportReaderError(
                    f"The process reading {path.name} stopped unexpectedly ({how}) after line "
                    f"{last_line}; the papers before it are stored. Run the import again to complete it."
                ) from None
            if message is None:
                finished = True
                return
            if isinstance(message, _ChildFailure):
                if message.trace:  # a bug, not a bad file: where it happened, for the report
                    log.error("The process reading %s failed:\n%s", path.name, message.trace)
                raise message.error
            for name, level, text in message.log_records:
                logging.getLogger(name).log(level, "%s", text)
            last_line = message.last_line or last_line
            yield message

    try:
        yield receive()
    finally:
        # Our end closed first: a child still sending gets a broken pipe and ends by itself. One that
        # sent everything is left time to exit; one stopped early (a failure, Ctrl-C) is not waited for.
        receiving.close()
        process.join(CHILD_STOP_SECONDS if finished else 0.1)
        if process.is_alive():
            process.terminate()
            process.join(CHILD_STOP_SECONDS)
        if process.is_alive():  # pragma: no cover - a child that ignores SIGTERM
            process.kill()
            process.join()
        process.close()


def _start_method() -> str:
    """fork where it is safe (Linux, no other thread that could hold a lock), spawn otherwise."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


class BulkImporter:
    """Reads a file line by line and stores its papers a batch (one unit of work) at a time.

    `processes`: 1 reads and parses the file in a child process (while this one stores), 0 in this
    process (a reader and one writer thread), None (the default) picks 1 for files of
    `CHILD_MIN_BYTES` or more. Both give the same stored rows and result. `start_method` ("fork",
    "spawn", …) for the child; by default fork when this process has a single thread, else spawn.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        signal_writer: SignalWriter = record_imported_signals,
        processes: int | None = None,
        start_method: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        if processes not in (None, 0, 1):
            raise ValueError("processes must be 0, 1 or None (one reading process at most: order matters)")
        self._uow = uow_factory
        self.batch_size = batch_size
        self._signal_writer = signal_writer
        self.processes = processes
        self.start_method = start_method

    def run(
        self,
        path: Path,
        filters: ImportFilter | None = None,
        progress: ImportProgress | None = None,
    ) -> ImportResult:
        """Import every usable paper of `path` that passes `filters`; see the module docstring."""
        filters = filters or ImportFilter()
        result = ImportResult(path=path)
        started = time.monotonic()
        if not path.is_file():
            raise NotFoundError(f"{path} does not exist (give the path of a JSON-lines file).")
        size = path.stat().st_size
        in_child = self.processes == 1 or (self.processes is None and size >= CHILD_MIN_BYTES)
        if in_child:
            context = multiprocessing.get_context(self.start_method or _start_method())
            with _batches_from_child(context, path, filters, self.batch_size, self._dialect()) as batches:
                self._store_all(batches, result, progress, started, size)
        else:
            self._store_all(
                _read_batches(path, filters, self.batch_size, None), result, progress, started, size
            )
        self._report(progress, result, started, size, size)
        return result

    def _dialect(self) -> str:
        with self._uow() as uow:
            return uow.session.get_bind().dialect.name

    def _store_all(
        self,
        batches: Iterator[_Batch],
        result: ImportResult,
        progress: ImportProgress | None,
        started: float,
        size: int,
    ) -> None:
        # One writer thread stores a batch while the next one is read: the database driver releases
        # the GIL while it works. One batch in flight at most keeps memory flat.
        with ThreadPoolExecutor(1, "trends-import") as writer:
            in_flight: Future[tuple[UpsertCounts, int]] | None = None
            try:
                for batch in batches:
                    self._absorb(batch.tally, result)
                    if in_flight is not None:
                        done, in_flight = in_flight, None
                        self._collect(done, result)
                        if batch.full:
                            self._report(progress, result, started, batch.bytes_read, size)
                    if batch.papers:
                        in_flight = writer.submit(self._store, batch, result.path.name)
            except TrendsError:
                # The reading failed (a file cut short, a reading process that died): what it read
                # before is stored, as the message says.
                if in_flight is not None:
                    self._collect(in_flight, result)
                raise
            if in_flight is not None:
                self._collect(in_flight, result)

    @staticmethod
    def _absorb(tally: ImportResult, result: ImportResult) -> None:
        result.format = tally.format
        result.lines = tally.lines
        result.filtered = tally.filtered
        result.skipped = tally.skipped
        result.skipped_lines = tally.skipped_lines
        result.months = tally.months

    @staticmethod
    def _report(
        progress: ImportProgress | None, result: ImportResult, started: float, done: int, size: int
    ) -> None:
        result.seconds = time.monotonic() - started
        if progress is not None:
            progress.batch_stored(result, done, size)

    @staticmethod
    def _collect(in_flight: Future[tuple[UpsertCounts, int]], result: ImportResult) -> None:
        counts, signals = in_flight.result()  # re-raises the batch's ImportBatchError
        result.counts += counts
        result.signals += signals
        result.batches += 1

    def _store(self, batch: _Batch, file_name: str) -> tuple[UpsertCounts, int]:
        """One unit of work: the batch's papers (and their signals), all or nothing."""
        try:
            with self._uow() as uow:
                if batch.rows is not None:
                    counts = bulk_upsert_rows(uow.session, batch.rows)
                else:
                    # Every record came out of clean_record as it was parsed.
                    counts = bulk_upsert(uow.session, batch.records or [], cleaned=True)
                stored_signals = 0
                if batch.signals:
                    stored_signals = self._signal_writer(uow.session, batch.signals, dt.datetime.now(dt.UTC))
                uow.commit()
        except TrendsError:
            raise
        except Exception as exc:
            log.exception("Import batch of lines %d–%d failed", batch.first_line, batch.last_line)
            raise ImportBatchError(
                f"Storing lines {batch.first_line}–{batch.last_line} of {file_name} failed "
                f"({type(exc).__name__}: {str(exc)[:200]}); that batch was rolled back and the batches "
                "before it stay stored. Run the import again to complete it."
            ) from exc
        return counts, stored_signals
