"""`PaperRecord`: one paper as a source reports it, before it is stored.

Plain data with no ORM or network types, so sources, importers, tests and the paper repository
all speak the same language. Ids are base arXiv ids (no version); the version travels separately.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
