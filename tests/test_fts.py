"""The full-text index: in sync with papers, one search interface, same top results on both engines.

Uses 200 real arXiv papers (tests/data, CC0 metadata) so ranking is checked on realistic text.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker

from bot.db import fts
from bot.db.engine import make_engine, make_session_factory
from bot.db.fts import FtsQuery, SearchFilter, search
from bot.db.models import Paper
from bot.textquery import parse_text_query
from tests.conftest import PostgresDatabases
from tests.factories import make_paper

SAMPLE = Path(__file__).parent / "data" / "papers-2025-04-sample.jsonl.gz"

# Realistic /trends queries; both engines must agree on their top results.
AGREEMENT_QUERIES = [
    "diffusion",
    "large language model reasoning",
    "retrieval augmented generation",
    "Radu Timofte",
    'author:"Radu Timofte"',
    '"mixture of experts"',
    "reasoning -math",
    "graph neural networks",
    "reinforcement learning agents",
    "vision language models",
    "image super resolution",
    "video generation",
    "benchmark",
    "diffusion models image",
    "agent",
    "chain of thought",
    "alignment",
    "retrieval",
]

HOSTILE = [
    '"',
    '""',
    '"unbalanced quote',
    "NEAR(",
    "NEAR(a b, 2)",
    "*",
    "diffusion*",
    "-",
    "--",
    "-diffusion",
    ":",
    "title:diffusion",
    "authors_text:x",
    "^",
    "^diffusion",
    "(",
    "((diffusion)",
    ")",
    "AND OR NOT",
    "a AND",
    "x" * 5000,
    "diffusion " * 600,
    "🤖🧠 reasoning 🚀",
    "zero\u200bwidth\u200d\ufeffjoin",
    "\u202eright-to-left\u202c עברית العربية",
    "nul\x00byte",
    "'; DROP TABLE papers; --",
    "1; SELECT * FROM papers",
    "' OR '1'='1",
    "\\'\\\\",
    "the of and to in",
    "!!! ??? ... ,,, ;;;",
    "a:b:c 'x':B <-> !y & z | w",
    "author:",
    'author:"',
    'author:"o\'brien"',
    "x² ½ ⅷ",
    "İ",
    "\x01\x02\x7f",
]


def sample_rows() -> list[dict[str, object]]:
    rows = []
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            day = dt.date.fromisoformat(item["date"][:10])
            when = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
            authors = list(item["authors"] or [])
            rows.append(
                {
                    "arxiv_id": item["id"],
                    "version": 1,
                    "title": item["title"],
                    "abstract": item["abstract"],
                    "authors": authors,
                    "authors_text": " ".join(authors),
                    "categories": item["categories"],
                    "primary_category": item["primary"],
                    "submitted_at": when,
                    "updated_at": when,
                    "abs_url": f"https://arxiv.org/abs/{item['id']}",
                    "pdf_url": f"https://arxiv.org/pdf/{item['id']}",
                    "harvested_at": when,
                    "refreshed_at": when,
                }
            )
    return rows


def load_sample(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Paper.__table__), sample_rows())


def top(factory: sessionmaker[Session], text: str, limit: int = 5, **kw: object) -> list[int]:
    with factory() as session:
        return [hit.paper_id for hit in search(session, parse_text_query(text), limit=limit, **kw)]  # type: ignore[arg-type]


@pytest.fixture
def sample_factory(engine: Engine) -> sessionmaker[Session]:
    load_sample(engine)
    return make_session_factory(engine)


def arxiv_ids(factory: sessionmaker[Session], ids: list[int]) -> list[str]:
    with factory() as session:
        by_id = {p.id: p.arxiv_id for p in session.query(Paper).filter(Paper.id.in_(ids))}
    return [by_id[i] for i in ids]


# --- index kept in sync --------------------------------------------------------------------


def test_insert_update_delete_keep_index_in_sync(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        paper = make_paper("2510.00001", title="Quokka routing for sparse experts")
        session.add(paper)
        session.commit()
        assert [h.paper_id for h in search(session, parse_text_query("quokka"))] == [paper.id]

        paper.title = "Wombat routing for sparse experts"
        session.commit()
        assert search(session, parse_text_query("quokka")) == []
        assert [h.paper_id for h in search(session, parse_text_query("wombat"))] == [paper.id]

        session.delete(paper)
        session.commit()
        assert search(session, parse_text_query("wombat")) == []


def test_author_names_found_as_words_and_with_author_syntax(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        by_jones = make_paper("2510.00002", title="Sparse attention", authors=("Mary Jones", "Li Wei"))
        about_jones = make_paper("2510.00003", title="The Jones polynomial in knot learning")
        session.add_all([by_jones, about_jones])
        session.commit()
        assert {h.paper_id for h in search(session, parse_text_query("jones"))} == {
            by_jones.id,
            about_jones.id,
        }
        found = search(session, parse_text_query('author:"Mary Jones"'))
        assert [h.paper_id for h in found] == [by_jones.id]
        assert search(session, parse_text_query("author:polynomial")) == []


# --- ranking and filters -------------------------------------------------------------------


def test_title_matches_rank_first_and_exclusions_apply(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        in_abstract = make_paper("2510.00010", title="Video models", abstract="We use diffusion. " * 5)
        in_title = make_paper("2510.00011", title="Diffusion for video", abstract="We study video.")
        session.add_all([in_abstract, in_title])
        session.commit()
        assert [h.paper_id for h in search(session, parse_text_query("diffusion"))] == [
            in_title.id,
            in_abstract.id,
        ]
        assert [h.paper_id for h in search(session, parse_text_query("video -models"))] == [in_title.id]


def test_ties_are_newest_first_then_highest_id(session_factory: sessionmaker[Session]) -> None:
    older = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    newer = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    with session_factory() as session:
        papers = [
            make_paper("2510.00020", title="Capybara planning", submitted=older),
            make_paper("2510.00021", title="Capybara planning", submitted=newer),
            make_paper("2510.00022", title="Capybara planning", submitted=newer),
        ]
        session.add_all(papers)
        session.commit()
        found = [h.paper_id for h in search(session, parse_text_query("capybara planning"))]
        assert found == [papers[2].id, papers[1].id, papers[0].id]


def test_filters_and_paging(sample_factory: sessionmaker[Session]) -> None:
    everything = top(sample_factory, "language", limit=1000)
    assert len(everything) > 30
    assert (
        top(sample_factory, "language", limit=10) + top(sample_factory, "language", limit=10, offset=10)
        == (everything[:20])
    )
    assert top(sample_factory, "language", limit=10, offset=10**9) == []
    assert top(sample_factory, "language", limit=0) == []

    chosen = frozenset(everything[5:8])
    assert set(top(sample_factory, "language", filters=SearchFilter(paper_ids=chosen))) == set(chosen)
    assert top(sample_factory, "language", filters=SearchFilter(paper_ids=frozenset())) == []

    # Bounds in any time zone mean the same instants (the sample spans April 2025).
    paris = dt.timezone(dt.timedelta(hours=2))
    since = dt.datetime(2025, 4, 15, 14, tzinfo=paris)  # 12:00 UTC: papers of the 15th included
    until = dt.datetime(2025, 4, 20, 14, tzinfo=paris)
    with sample_factory() as session:
        dates = {p.id: p.submitted_at for p in session.query(Paper)}
    window = top(sample_factory, "language", limit=1000, filters=SearchFilter(since=since, until=until))
    expected = [i for i in everything if since <= dates[i] < until]
    assert window == expected
    assert window


def test_hand_built_query_with_operators_is_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, pytest.raises(ValueError):
        search(session, FtsQuery(words=('x" OR "y',)))


# --- hostile input -------------------------------------------------------------------------


def test_hostile_input_never_raises(sample_factory: sessionmaker[Session]) -> None:
    for text in HOSTILE:
        found = top(sample_factory, text, limit=10)
        assert isinstance(found, list), text
    assert top(sample_factory, "diffusion* ^(")  # operators are separators: still finds papers
    with sample_factory() as session:
        assert session.query(Paper).count() == 200  # nothing was dropped or changed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_any_text_searches_without_error(sample_factory: sessionmaker[Session], text: str) -> None:
    assert isinstance(top(sample_factory, text, limit=5), list)


# --- same results on both engines ----------------------------------------------------------


@pytest.fixture(scope="module")
def both_engines(
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_databases: PostgresDatabases | None,
) -> Iterator[tuple[sessionmaker[Session], sessionmaker[Session]]]:
    if pg_databases is None:
        pytest.skip("comparing engines needs TRENDS_TEST_DATABASE_URL")
    path = tmp_path_factory.mktemp("compare") / "trends.db"
    shutil.copy(sqlite_template, path)
    engines = [make_engine(f"sqlite:///{path}"), make_engine(pg_databases.create())]
    from bot.db import migrations

    migrations.upgrade(engines[1])
    for engine in engines:
        load_sample(engine)
    yield make_session_factory(engines[0]), make_session_factory(engines[1])
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("text", AGREEMENT_QUERIES)
def test_same_top_results_on_sqlite_and_postgresql(
    both_engines: tuple[sessionmaker[Session], sessionmaker[Session]], text: str
) -> None:
    sqlite_factory, postgres_factory = both_engines
    on_sqlite = arxiv_ids(sqlite_factory, top(sqlite_factory, text))
    on_postgres = arxiv_ids(postgres_factory, top(postgres_factory, text))
    assert on_sqlite, f"{text!r} should find papers in the sample"
    assert on_sqlite[:3] == on_postgres[:3] or len(set(on_sqlite) & set(on_postgres)) >= 4, (
        on_sqlite,
        on_postgres,
    )


@pytest.mark.postgres
def test_month_filter_same_on_both_engines(
    both_engines: tuple[sessionmaker[Session], sessionmaker[Session]],
) -> None:
    window = SearchFilter(
        since=dt.datetime(2025, 4, 10, tzinfo=dt.UTC), until=dt.datetime(2025, 4, 20, tzinfo=dt.UTC)
    )
    results = [
        arxiv_ids(factory, top(factory, "reasoning", limit=1000, filters=window)) for factory in both_engines
    ]
    assert results[0]
    assert set(results[0]) == set(results[1])


# --- bounded candidate sets (the speed-ups must not change what is found) -------------------


def newest_matches_ranked(
    factory: sessionmaker[Session], text: str, count: int, **filters: object
) -> list[int]:
    """The reference: rank exactly the `count` newest matches (found with no candidate bound)."""
    every = top(factory, text, limit=1000, filters=SearchFilter(**filters))  # type: ignore[arg-type]
    newest = frozenset(sorted(every, reverse=True)[:count])
    if not newest:
        return []
    return top(factory, text, limit=1000, filters=SearchFilter(paper_ids=newest, **filters))  # type: ignore[arg-type]


CANDIDATE_QUERIES = ["language", "model", "learning", '"language models"', "reasoning agents", "Radu"]


@pytest.mark.parametrize("window", [7, 40])
def test_only_the_newest_matches_are_ranked(
    sample_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    # Small bounds on 200 papers reach every path: dense and sparse id ranges, the rest of the
    # matches, the per-match and set-of-ids date checks.
    month = {
        "since": dt.datetime(2025, 4, 10, tzinfo=dt.UTC),
        "until": dt.datetime(2025, 4, 20, tzinfo=dt.UTC),
    }
    expected = {
        (text, dated): newest_matches_ranked(sample_factory, text, 12, **(month if dated else {}))
        for text in CANDIDATE_QUERIES
        for dated in (False, True)
    }
    monkeypatch.setattr(fts, "RANK_CANDIDATES", 12)
    monkeypatch.setattr(fts, "RECENT_WINDOW_IDS", window)
    for date_set_max in (0, 10_000):
        monkeypatch.setattr(fts, "SQLITE_DATE_SET_MAX", date_set_max)
        for (text, dated), ranked in expected.items():
            found = top(sample_factory, text, limit=1000, filters=SearchFilter(**(month if dated else {})))  # type: ignore[arg-type]
            assert found == ranked, (text, dated, date_set_max)
            assert len(found) <= 12
    assert any(len(ranked) == 12 for ranked in expected.values())  # the bound was reached


def test_alternatives_find_each_paper_once_with_its_best_score(sample_factory: sessionmaker[Session]) -> None:
    variants = [parse_text_query(text) for text in ("diffusion", '"language models"', "reasoning")]
    with sample_factory() as session:
        alone = [search(session, variant, limit=1000) for variant in variants]
        together = search(session, variants, limit=1000)
        paged = search(session, variants, limit=7, offset=3)
    best: dict[int, float] = {}
    for hits in alone:
        for hit in hits:
            best[hit.paper_id] = max(hit.score, best.get(hit.paper_id, float("-inf")))
    assert {hit.paper_id: hit.score for hit in together} == pytest.approx(best)
    assert len(together) == len(best) > 20
    assert [hit.score for hit in together] == sorted((hit.score for hit in together), reverse=True)
    assert paged == together[3:10]
    assert all(hit.submitted_at is not None and hit.submitted_at.tzinfo is not None for hit in together)


def test_hits_carry_the_submission_time(sample_factory: sessionmaker[Session]) -> None:
    with sample_factory() as session:
        hits = search(session, parse_text_query("language"), limit=50)
        dates = {
            p.id: p.submitted_at
            for p in session.query(Paper).filter(Paper.id.in_([h.paper_id for h in hits]))
        }
    assert hits
    assert all(hit.submitted_at == dates[hit.paper_id] for hit in hits)
