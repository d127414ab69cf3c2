"""arXiv identifiers and categories: parsing and validation, with no I/O.

An arXiv id comes in two schemes, new (`2410.01234`, `0704.0001`) and old (`cs/0501001`, `math.GT/0309136`),
optionally with a version suffix (`v3`). The database keys papers by the *base* id (no version) so that
every version of a paper is one row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import ValidationError

_NEW_ID = re.compile(r"(?P<base>\d{4}\.\d{4,5})(?:v(?P<version>\d+))?")
_OLD_ID = re.compile(r"(?P<base>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?")
_ABS_PREFIX = re.compile(r"^(?:https?://(?:export\.)?arxiv\.org/(?:abs|pdf)/|arxiv:)", re.IGNORECASE)
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")
# The widths of `papers.arxiv_id` and `papers.primary_category`: longer ones cannot be stored.
MAX_ID_CHARS = 32
MAX_CATEGORY_CHARS = 32


@dataclass(frozen=True, slots=True)
class ArxivId:
    base: str
    version: int | None

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an id, an `arXiv:` reference, or an abs/pdf URL. Raises `ValidationError` if it is none."""
    cleaned = _ABS_PREFIX.sub("", text.strip()).removesuffix(".pdf")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.fullmatch(cleaned)
        if match:
            if len(match.group("base")) > MAX_ID_CHARS:
                # The old scheme allows any archive name; none is this long, and it could not be stored.
                raise ValidationError(f"{text[:60]!r} is too long for an arXiv id")
            version = match.group("version")
            return ArxivId(match.group("base"), int(version) if version else None)
    raise ValidationError(f"{text[:60]!r} is not an arXiv id (expected e.g. 2410.01234 or cs/0501001)")


def is_valid_category(text: str) -> bool:
    """True for names shaped like arXiv categories (`cs.LG`, `stat.ML`, `hep-th`)."""
    return bool(_CATEGORY.fullmatch(text)) and len(text) <= MAX_CATEGORY_CHARS


def abs_url(base_id: str) -> str:
    return f"https://arxiv.org/abs/{base_id}"


def pdf_url(base_id: str) -> str:
    return f"https://arxiv.org/pdf/{base_id}"
