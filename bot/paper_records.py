"""`PaperRecord`: one paper as a source reports it, before it is stored.

Plain data with no ORM or network types, so sources, importers, tests and the paper repository
all speak the same language. Ids are base arXiv ids (no version); the version travels separately.

`clean_record` is the one rule for what can be stored on every engine: sources and importers call it
as they read (so a skip is logged and counted where the record came from) and the paper repository
calls it again before writing (so no caller can break the table; the bulk importer, whose every
record was cleaned as it was parsed, says so and is spared the second pass). It removes control characters,
replaces lone surrogates (invalid UTF-8 on the wire), cuts over-long text and drops categories wider
than the column; a record whose id cannot be stored, or with no storable category, is unusable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from dataclasses import dataclass

from bot.arxiv_ids import MAX_CATEGORY_CHARS, MAX_ID_CHARS

log = logging.getLogger(__name__)

# arXiv's longest titles are a few hundred characters and its abstracts at most 1,920: these limits
# only stop text that is surely broken (a feed or a file that glued records together) while leaving
# every real paper, and the corpus's 1,200-character title and 10,000-character abstract, whole.
MAX_TITLE_CHARS = 2_000
MAX_ABSTRACT_CHARS = 20_000
MAX_NOTE_CHARS = 2_000  # comment, journal reference
MAX_AUTHOR_CHARS = 300

# C0 controls but tab, newline and carriage return (which whitespace squashing handles), DEL, C1
# controls and the two non-characters: nothing a title or an abstract means. NUL also breaks PostgreSQL.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# A lone surrogate cannot be encoded as UTF-8: both drivers refuse the whole statement.
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile(f"{_CONTROL.pattern}|{_SURROGATE.pattern}")


class UnusableRecord(ValueError):
    """A record that cannot be stored whatever is cleaned; the message says why."""


@dataclass(frozen=True, slots=True)
class PaperRecord:
    arxiv_id: str  # base id, e.g. "2410.01234" or "cs/0501001"
    version: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    primary_category: str
    submitted_at: dt.datetime  # aware, UTC: when version 1 was submitted
    updated_at: dt.datetime  # aware, UTC: when this version was submitted
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None or self.updated_at.tzinfo is None:
            raise ValueError(f"{self.arxiv_id}: PaperRecord dates must be timezone-aware")
        if self.version < 1:
            raise ValueError(f"{self.arxiv_id}: version must be 1 or more")

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    def is_newer_than(self, other: PaperRecord) -> bool:
        """True when this record should replace `other` (same paper): higher version, or same and later."""
        return (self.version, self.updated_at) > (other.version, other.updated_at)


def _clean_text(text: str) -> str:
    """Control characters removed, lone surrogates made U+FFFD, whitespace runs squashed again."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…"; at a space when one is near the end."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit * 0.8:
        head = head[:space]
    return head.rstrip() + "…"


def _storable_text(text: str) -> bool:
    # Printable ASCII is by far the common case and two C-speed checks away (isascii is O(1)).
    return (text.isascii() and text.isprintable()) or _UNSTORABLE.search(text) is None


def is_author_name(name: str) -> bool:
    """False for what a sloppy author list leaves between names (":", "-", "&"): a name has a letter
    or a digit. Such entries would show up in a digest as "Essential AI, :"."""
    return bool(name) and (name[0].isalnum() or any(ch.isalnum() for ch in name))


def _fits(record: PaperRecord) -> bool:
    """The fast check: true for nearly every record, which then goes through unchanged."""
    if not (
        0 < len(record.arxiv_id) <= MAX_ID_CHARS and 0 < len(record.primary_category) <= MAX_CATEGORY_CHARS
    ):
        return False
    if len(record.title) > MAX_TITLE_CHARS or len(record.abstract) > MAX_ABSTRACT_CHARS:
        return False
    if len(record.comment or "") > MAX_NOTE_CHARS or len(record.journal_ref or "") > MAX_NOTE_CHARS:
        return False
    if any(len(name) > MAX_AUTHOR_CHARS for name in record.authors):
        return False
    if any(not 0 < len(name) <= MAX_CATEGORY_CHARS for name in record.categories):
        return False
    small = (record.arxiv_id, record.primary_category, record.comment, record.journal_ref, record.doi)
    return (
        _storable_text(record.title)
        and _storable_text(record.abstract)
        and _storable_text("".join(record.authors))
        and _storable_text("".join(text for text in (*small, *record.categories) if text))
    )


def clean_record(record: PaperRecord) -> PaperRecord:
    """`record` as every engine can store it (the same object when nothing needed changing).

    Text loses control characters and lone surrogates and is cut to its limit; categories too wide
    for the column or holding such characters are dropped (a dropped primary gives way to the first
    one left). Each change is logged. Raises `UnusableRecord` for an id that is empty, too long or
    holds such characters (an id is a key: a cleaned one would name another paper), and for a record
    left with no category.
    """
    if _fits(record):
        return record
    shown = repr(record.arxiv_id[:40])
    if not record.arxiv_id or len(record.arxiv_id) > MAX_ID_CHARS:
        raise UnusableRecord(f"id {shown} is empty or longer than {MAX_ID_CHARS} characters")
    if _UNSTORABLE.search(record.arxiv_id):
        raise UnusableRecord(f"id {shown} holds control characters or invalid UTF-8")
    changes: list[str] = []
    scrubbed: dict[str, None] = {}  # fields that lost control characters or invalid UTF-8, in order

    def category_ok(name: str) -> bool:
        return 0 < len(name) <= MAX_CATEGORY_CHARS and not _UNSTORABLE.search(name)

    categories = tuple(name for name in record.categories if category_ok(name))
    primary = record.primary_category if category_ok(record.primary_category) else ""
    if len(categories) < len(record.categories) or not primary:
        changes.append("dropped categories that are too long or hold control characters")
    primary = primary or (categories[0] if categories else "")
    if not primary:
        raise UnusableRecord(f"{record.arxiv_id} has no category of at most {MAX_CATEGORY_CHARS} characters")

    def text(field: str, value: str, limit: int) -> str:
        cleaned = _clean_text(value) if _UNSTORABLE.search(value) else value
        if cleaned != value:
            scrubbed[field] = None
        cut = _cut(cleaned, limit)
        if cut != cleaned:
            changes.append(f"cut the {field} to {limit:,} characters")
        return cut

    def optional(field: str, value: str | None, limit: int) -> str | None:
        return (text(field, value, limit) or None) if value is not None else None

    authors = tuple(
        name for author in record.authors if (name := text("author names", author, MAX_AUTHOR_CHARS))
    )
    cleaned = dataclasses.replace(
        record,
        title=text("title", record.title, MAX_TITLE_CHARS),
        abstract=text("abstract", record.abstract, MAX_ABSTRACT_CHARS),
        authors=authors,
        categories=categories or (primary,),
        primary_category=primary,
        comment=optional("comment", record.comment, MAX_NOTE_CHARS),
        journal_ref=optional("journal reference", record.journal_ref, MAX_NOTE_CHARS),
        doi=optional("DOI", record.doi, len(record.doi or "")),
    )
    if scrubbed:
        changes.append(f"removed control characters or invalid UTF-8 from the {', '.join(scrubbed)}")
    log.warning("arXiv paper %s stored cleaned: %s", record.arxiv_id, "; ".join(dict.fromkeys(changes)))
    return cleaned
