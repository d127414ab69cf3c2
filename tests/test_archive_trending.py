"""Emerging terms: growth against the previous months, support threshold, boilerplate ignored."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from bot.archive import trending
from bot.archive.service import ArchiveService
from tests.factories import make_paper


def test_emerging_terms(sqlite_url: str) -> None:
    from bot.db.engine import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    session_factory: sessionmaker[Session] = make_session_factory(engine)
    papers = []
    n = 0

    def add(month: int, title: str, abstract: str, count: int) -> None:
        nonlocal n
        for k in range(count):
            n += 1
            papers.append(
                make_paper(
                    f"2607.{n:05d}",
                    f"{title} {n}",
                    abstract,
                    submitted=dt.datetime(2026, month, 1 + k % 27, tzinfo=dt.UTC),
                )
            )

    for month in (7, 8, 9):  # before: steady graph papers, a little speculative decoding
        add(month, "Graph networks", "We propose a novel method; results show state of the art.", 20)
        add(month, "Speculative decoding", "Faster inference with a draft model.", 1)
    add(10, "Graph networks", "We propose a novel method; results show state of the art.", 20)
    add(10, "Speculative decoding", "Faster inference with a draft model.", 12)
    add(10, "Qzxv typo", "A one-off.", 1)
    with session_factory() as session:
        session.add_all(papers)
        session.commit()

    view = ArchiveService(session_factory).trending("2026-10", lookback=3, limit=5)
    assert view.papers == 33
    assert view.previous_papers == 63
    terms = [t.term for t in view.terms]
    top = view.terms[0]
    assert top.term in {"speculative decoding", "speculative", "decoding", "faster inference", "draft"}
    assert top.count == 12
    assert top.previous_monthly == 1.0
    assert top.growth > 5
    assert len(top.examples) == 3
    assert all("Speculative" in e.title for e in top.examples)
    ignored = {"propose", "novel", "method", "results", "show", "state", "art", "qzxv"}
    assert not ignored & {w for t in terms for w in t.split()}
    # overlapping phrases are represented once
    assert sum("speculative" in t for t in terms) == 1
    engine.dispose()


def test_trending_with_no_history_says_so(sqlite_url: str) -> None:
    from bot.db.engine import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    session_factory: sessionmaker[Session] = make_session_factory(engine)
    with session_factory() as session:
        session.add(make_paper("2610.00001", submitted=dt.datetime(2026, 10, 2, tzinfo=dt.UTC)))
        session.commit()
    view = ArchiveService(session_factory).trending()
    assert view.month == "2026-10"
    assert view.terms == ()
    assert "to compare with" in view.message
    engine.dispose()


def test_sample_spreads_over_the_months_when_ids_take_turns(sqlite_url: str) -> None:
    # Papers stored month by month in turn (ids 1, 5, 9… in July; 2, 6, 10… in August; …): a sample
    # of "every 4th id" would hold one month only and leave nothing to compare with.
    from bot.db.engine import make_engine, make_session_factory

    engine = make_engine(sqlite_url)
    session_factory: sessionmaker[Session] = make_session_factory(engine)
    with session_factory() as session:
        for n in range(240):
            month = 7 + n % 4
            title = "Speculative decoding" if month == 10 and n % 3 else "Graph networks"
            day = 1 + (n // 4) % 27
            session.add(
                make_paper(
                    f"2607.{n:05d}",
                    f"{title} {n}",
                    "Plain text.",
                    submitted=dt.datetime(2026, month, day, tzinfo=dt.UTC),
                )
            )
        session.commit()
    with session_factory() as session:
        view = trending.emerging_terms(session, "2026-10", lookback=3, sample_size=15, min_support=3)
    assert view.sampled
    assert (view.papers, view.previous_papers) == (60, 180)
    assert view.message == ""
    assert view.terms[0].term in {"speculative decoding", "speculative", "decoding"}
    engine.dispose()


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters="\x01\x02")))
def test_punctuation_breaks_match_the_pattern(text: str) -> None:
    # The fast numpy classification must give the tokens of the regular expression it replaces
    # (a run of punctuation may give several breaks instead of one: breaks never join n-grams).
    def collapsed(words: list[str]) -> list[str]:
        return [word for word, _ in itertools.groupby(words)]

    expected = trending._PUNCTUATION.sub(f" {trending._BREAK} ", text).split()
    assert collapsed(trending._break_punctuation(text).split()) == collapsed(expected)
