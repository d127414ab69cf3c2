"""What the digest services return: plain frozen dataclasses the CLI and chat adapters render.

Nothing here is an ORM object, so a view can leave its unit of work, be rendered, cached or sent
to another thread without touching the database again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SHORT_AUTHOR_COUNT = 3


def short_authors(authors: tuple[str, ...]) -> str:
    """The first three authors, then "et al." when there are more ("" when none were recorded)."""
    if len(authors) <= SHORT_AUTHOR_COUNT:
        return ", ".join(authors)
    return ", ".join(authors[:SHORT_AUTHOR_COUNT]) + " et al."


def insight_bullets(insights: str) -> tuple[str, ...]:
    """Key insights one a line (as summarizers store them); older single-paragraph insights are one."""
    return tuple(b for line in insights.splitlines() if (b := line.strip().removeprefix("- ").lstrip("• ")))


@dataclass(frozen=True, slots=True)
class TopicView:
    id: int
    name: str
    description: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    examples: tuple[str, ...]
    weight: float
    enabled: bool


@dataclass(frozen=True, slots=True)
class Links:
    """A paper's links; code and project page only when the paper names them."""

    abstract: str
    pdf: str
    code: str | None = None
    project: str | None = None

    def labelled(self) -> list[tuple[str, str]]:
        """(label, url) pairs for the links present, in reading order."""
        pairs = [("Abstract", self.abstract), ("PDF", self.pdf)]
        if self.code:
            pairs.append(("Code", self.code))
        if self.project:
            pairs.append(("Project page", self.project))
        return pairs


@dataclass(frozen=True, slots=True)
class EntryView:
    position: int
    section: str  # "pick" or "other"
    paper_id: int
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    links: Links
    why: str
    insights: str
    topic: str | None
    reason: str
    score: float

    @property
    def authors_short(self) -> str:
        return short_authors(self.authors)

    @property
    def insight_bullets(self) -> tuple[str, ...]:
        return insight_bullets(self.insights)


@dataclass(frozen=True, slots=True)
class DigestView:
    month: str  # "2026-10"
    month_label: str  # "October 2026"
    title: str
    intro: str
    status: str  # "draft" or "published"
    created_at: dt.datetime
    published_at: dt.datetime | None
    topics_covered: tuple[str, ...]
    picks: tuple[EntryView, ...]
    others: tuple[EntryView, ...]
    audience: str = "default"  # whose digest this is (bot.audiences)

    @property
    def is_published(self) -> bool:
        return self.status == "published"
