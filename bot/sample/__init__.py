"""A bundled sample of ~300 real arXiv papers from May 2025, for trying the bot offline.

`papers-2025-05.jsonl.gz` holds one paper a line with the fields of the project's benchmark pools
(`id`, `title`, `abstract`, `authors`, `categories`, `primary`, `date`, and provenance `src` /
`date_basis`). arXiv metadata is public domain (CC0). The pool records announcement dates only, so a
sample paper's `submitted_at` is that date at 12:00 UTC and its version is 1.

`trends harvest --sample` stores these papers; tests and the fake arXiv server render them as Atom
(`bot.sample.atom`). `python -m bot.sample.build` regenerates the file from a pool.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from bot.harvest.records import PaperRecord

SAMPLE_FILE = "papers-2025-05.jsonl.gz"
SAMPLE_MONTH = "2025-05"
NOON = dt.time(12, 0, tzinfo=dt.UTC)


def iter_pool_lines(raw: bytes) -> Iterator[dict[str, Any]]:
    """Decode gzipped JSON lines (the pool format), skipping blank lines."""
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def record_from_pool(row: dict[str, Any]) -> PaperRecord:
    """A pool line as a `PaperRecord`: submitted at noon UTC on its date, version 1."""
    submitted = dt.datetime.combine(dt.date.fromisoformat(row["date"]), NOON)
    categories = tuple(dict.fromkeys(row.get("categories") or [row["primary"]]))
    return PaperRecord(
        arxiv_id=row["id"],
        version=1,
        title=" ".join(row["title"].split()),
        abstract=" ".join(row["abstract"].split()),
        authors=tuple(row.get("authors") or ()),
        categories=categories,
        primary_category=row["primary"],
        submitted_at=submitted,
        updated_at=submitted,
    )


def sample_rows() -> list[dict[str, Any]]:
    """The raw sample lines, as stored."""
    raw = resources.files(__package__).joinpath(SAMPLE_FILE).read_bytes()
    return list(iter_pool_lines(raw))


def load_sample() -> list[PaperRecord]:
    """The bundled sample as records, in file order (oldest date first)."""
    return [record_from_pool(row) for row in sample_rows()]
