"""Harvesting the shapes that break things, end to end on SQLite and PostgreSQL.

The fake arXiv serves team-written records (`tests.paper_corpus`) over HTTP, the real `arxiv` client
reads them and the harvester stores them: LaTeX and HTML, names in many scripts, 10,000-character
abstracts, 1,200-character titles, cross-lists, several versions of a paper, old-style ids and empty
author lists. Everything is stored once and whole, a re-run adds nothing, the newest version wins and
old-style ids are stored and searchable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.fts import search
from bot.db.models import Paper
from bot.db.papers import UpsertCounts, get_by_arxiv_id
from bot.db.uow import UnitOfWork
from bot.harvest.harvester import Harvester
from bot.harvest.source import ArxivSource
from bot.paper_records import PaperRecord
from bot.textquery import parse_text_query
from tests.fakes.arxiv_server import FakeArxivServer
from tests.paper_corpus import generate_papers, hostile_papers

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
SHAPES = hostile_papers()
IN_MARCH = [group[0] for name, group in SHAPES.items() if name not in ("old_style", "versions")]
MONTH = generate_papers(120, seed=3, hostile_share=0.5) + IN_MARCH + [SHAPES["versions"][0]]
CATEGORIES = sorted({c for r in MONTH for c in r.categories})


@pytest.fixture
def server() -> Iterator[FakeArxivServer]:
    with FakeArxivServer(MONTH) as fake:
        yield fake


def _harvester(server: FakeArxivServer, session_factory: sessionmaker[Session]) -> Harvester:
    source = ArxivSource(
        api_url=server.url,
        page_size=50,
        delay_seconds=0.0,
        num_retries=1,
        timeout_seconds=5.0,
        bad_page_retries=1,
    )
    return Harvester(lambda: UnitOfWork(session_factory), source)


def _squashed(record: PaperRecord) -> PaperRecord:
    return dataclasses.replace(
        record,
        title=" ".join(record.title.split()),
        abstract=" ".join(record.abstract.split()),
        authors=tuple(" ".join(name.split()) for name in record.authors),
    )


def _stored(session_factory: sessionmaker[Session]) -> dict[str, Paper]:
    with session_factory() as session:
        return {p.arxiv_id: p for p in session.scalars(select(Paper))}


def test_hostile_month_is_stored_whole_and_a_rerun_adds_nothing(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    harvester = _harvester(server, session_factory)
    first = harvester.harvest(*MARCH, CATEGORIES)
    assert first.counts == UpsertCounts(inserted=len(MONTH))
    stored = _stored(session_factory)
    assert set(stored) == {r.arxiv_id for r in MONTH}
    for record in map(_squashed, MONTH):
        paper = stored[record.arxiv_id]
        assert (paper.title, paper.abstract) == (record.title, record.abstract), record.arxiv_id
        assert tuple(paper.authors) == record.authors
        assert tuple(paper.categories) == record.categories
        assert paper.primary_category == record.primary_category
        assert paper.version == record.version
    assert len(stored[SHAPES["long_abstract"][0].arxiv_id].abstract) == 10_000
    assert stored[SHAPES["empty_authors"][0].arxiv_id].authors == []

    again = harvester.harvest(*MARCH, CATEGORIES)
    assert again.counts == UpsertCounts(unchanged=len(MONTH))
    assert len(_stored(session_factory)) == len(MONTH)


def test_the_newest_version_wins_whatever_order_they_come_in(
    server: FakeArxivServer, session_factory: sessionmaker[Session]
) -> None:
    v1, v2, v3 = SHAPES["versions"]
    harvester = _harvester(server, session_factory)
    harvester.harvest(*MARCH, CATEGORIES)
    server.set_records([v3])
    assert harvester.harvest(*MARCH, CATEGORIES).counts == UpsertCounts(updated=1)
    server.set_records([v2, v1])  # older versions served later change nothing
    assert harvester.harvest(*MARCH, CATEGORIES).counts == UpsertCounts(unchanged=1)
    paper = _stored(session_factory)[v1.arxiv_id]
    assert (paper.version, paper.title, paper.updated_at) == (3, v3.title, v3.updated_at)
    with session_factory() as session:
        found = search(session, parse_text_query("Versioned final"))
        assert [hit.paper_id for hit in found] == [paper.id]
        assert search(session, parse_text_query("Versioned draft")) == []  # the old title left the index


def test_all_versions_in_one_page_store_the_newest(session_factory: sessionmaker[Session]) -> None:
    v1, v2, v3 = SHAPES["versions"]
    with FakeArxivServer([v2, v3, v1]) as fake:
        counts = _harvester(fake, session_factory).harvest(*MARCH, ["cs.LG"]).counts
    assert counts.total == 1
    assert _stored(session_factory)[v1.arxiv_id].version == 3


def test_old_style_ids_are_stored_and_searchable(session_factory: sessionmaker[Session]) -> None:
    old_hep, old_math = SHAPES["old_style"]
    with FakeArxivServer(SHAPES["old_style"]) as fake:
        harvester = _harvester(fake, session_factory)
        for record in (old_hep, old_math):
            day = record.submitted_at.date()
            result = harvester.harvest(day, day, [record.primary_category])
            assert result.counts == UpsertCounts(inserted=1)
    with session_factory() as session:
        for record in (old_hep, old_math):
            paper = get_by_arxiv_id(session, record.arxiv_id)
            assert paper is not None
            assert paper.abs_url == f"https://arxiv.org/abs/{record.arxiv_id}"
            assert paper.version == record.version
            assert paper.submitted_at == record.submitted_at
        found = {h.paper_id for h in search(session, parse_text_query("old-style identifiers"))}
        assert found == {p.id for p in session.scalars(select(Paper))}
        (knots,) = search(session, parse_text_query("knots placeholders"))
        assert session.get(Paper, knots.paper_id).arxiv_id == "math.GT/0309136"  # type: ignore[union-attr]


def test_stray_separators_in_an_author_list_are_not_authors(session_factory: sessionmaker[Session]) -> None:
    sloppy = dataclasses.replace(
        generate_papers(1, seed=11)[0], authors=("Team Kestrel", ":", "Zoë Ng", "-", "&", "李雷")
    )
    with FakeArxivServer([sloppy]) as fake:
        harvester = _harvester(fake, session_factory)
        harvester.harvest(sloppy.submitted_at.date(), sloppy.submitted_at.date(), list(sloppy.categories))
    assert _stored(session_factory)[sloppy.arxiv_id].authors == ["Team Kestrel", "Zoë Ng", "李雷"]
