"""Paper formatting for archive views: the digest's own authors line and links, so both read alike."""

from __future__ import annotations

from bot.digest.service import paper_links
from bot.digest.views import short_authors

__all__ = ["authors_short", "paper_links"]


def authors_short(authors: tuple[str, ...] | list[str]) -> str:
    """First three authors then "et al." (as in the digest); "unknown authors" when none were recorded."""
    names = tuple(a.strip() for a in authors if a and a.strip())
    return short_authors(names) if names else "unknown authors"
