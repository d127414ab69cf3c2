"""Small builders for rows and views that many tests need (real rows, real database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from bot.audiences import default_audience_id
from bot.db.models import Digest, DigestEntry, Paper
from bot.digest.views import DigestView, EntryView, Links


def make_paper(
    arxiv_id: str,
    title: str = "A paper",
    abstract: str = "We study things.",
    *,
    authors: Sequence[str] = ("Ada Lovelace",),
    submitted: dt.datetime | None = None,
    categories: Sequence[str] = ("cs.LG",),
) -> Paper:
    submitted = submitted or dt.datetime(2026, 10, 5, 12, tzinfo=dt.UTC)
    return Paper(
        arxiv_id=arxiv_id,
        version=1,
        title=title,
        abstract=abstract,
        authors=list(authors),
        authors_text=" ".join(authors),
        categories=list(categories),
        primary_category=categories[0],
        submitted_at=submitted,
        updated_at=submitted,
        abs_url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}",
    )


def add_published_digest(
    session: Session, month: str, papers: Sequence[Paper], *, audience: int | None = None
) -> Digest:
    digest = Digest(
        audience_id=default_audience_id(session) if audience is None else audience,
        month=month,
        status="published",
        title=f"Trends in AI — {month}",
        intro="Intro.",
    )
    digest.published_at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    session.add(digest)
    session.flush()
    for position, paper in enumerate(papers, start=1):
        session.add(DigestEntry(digest_id=digest.id, paper_id=paper.id, position=position, section="pick"))
    session.flush()
    return digest


def digest_view(month: str, papers: Sequence[Paper], status: str = "published") -> DigestView:
    entries = tuple(
        EntryView(
            position=i,
            section="pick",
            paper_id=paper.id,
            arxiv_id=paper.arxiv_id,
            title=paper.title,
            authors=tuple(paper.authors),
            links=Links(abstract=paper.abs_url, pdf=paper.pdf_url),
            why="Why it matters.",
            insights="What is new.",
            topic="Agents",
            reason="Top match for Agents",
            score=1.0,
        )
        for i, paper in enumerate(papers, start=1)
    )
    return DigestView(
        month=month,
        month_label=month,
        title=f"Trends in AI — {month}",
        intro="Intro.",
        status=status,
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        published_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        topics_covered=("Agents",),
        picks=entries,
        others=(),
    )


def published_month(session_factory: sessionmaker[Session], picks: int, month: str = "2026-10") -> DigestView:
    """`picks` papers stored and published as the month's digest; returns the digest's view."""
    with session_factory() as session:
        papers = [make_paper(f"2610.{i:05d}", title=f"Paper {i}") for i in range(1, picks + 1)]
        session.add_all(papers)
        session.flush()
        add_published_digest(session, month, papers)
        session.commit()
        return digest_view(month, papers)
